import type { Kysely, Selectable } from 'kysely';
import type { Notification, NotificationSink } from '../../ports/notification-sink.ts';
import type { Database, NotificationsTable } from '../schema.ts';

export function createSqliteNotificationSink(db: Kysely<Database>): NotificationSink {
  return {
    async enqueue(recipient, kind, payload, at) {
      const row = await db
        .insertInto('notifications')
        .values({ recipient, kind, payload: JSON.stringify(payload), created_at: at, delivered_at: null, read_at: null })
        .returning('id')
        .executeTakeFirstOrThrow();
      return row.id;
    },
    async pending(limit) {
      const rows = await db
        .selectFrom('notifications')
        .selectAll()
        .where('delivered_at', 'is', null)
        .orderBy('id')
        .limit(limit)
        .execute();
      return rows.map(fromRow);
    },
    /** False when unknown or already delivered, so two deliverers can tell who won. */
    async markDelivered(id, at) {
      const result = await db
        .updateTable('notifications')
        .set({ delivered_at: at })
        .where('id', '=', id)
        .where('delivered_at', 'is', null)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },
    async listForRecipient(recipient, { unreadOnly = false, limit }) {
      let query = db.selectFrom('notifications').selectAll().where('recipient', '=', recipient);
      if (unreadOnly) query = query.where('read_at', 'is', null);
      return (await query.orderBy('id', 'desc').limit(limit).execute()).map(fromRow);
    },
    async unreadCount(recipient) {
      const row = await db
        .selectFrom('notifications')
        .select((eb) => eb.fn.countAll<number | string>().as('n'))
        .where('recipient', '=', recipient)
        .where('read_at', 'is', null)
        .executeTakeFirstOrThrow();
      return Number(row.n);
    },
    async markRead(recipient, ids, at) {
      if (ids !== 'all' && ids.length === 0) return 0;
      let query = db.updateTable('notifications').set({ read_at: at }).where('recipient', '=', recipient).where('read_at', 'is', null);
      if (ids !== 'all') query = query.where('id', 'in', [...ids]);
      return Number((await query.executeTakeFirst()).numUpdatedRows);
    },
  };
}

function fromRow(row: Selectable<NotificationsTable>): Notification {
  return {
    id: Number(row.id),
    recipient: row.recipient,
    kind: row.kind,
    payload: JSON.parse(row.payload) as Record<string, unknown>,
    createdAt: Number(row.created_at),
    deliveredAt: row.delivered_at === null ? null : Number(row.delivered_at),
    readAt: row.read_at === null ? null : Number(row.read_at),
  };
}
