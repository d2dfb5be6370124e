import type { Kysely, Selectable } from 'kysely';
import type { Notification, NotificationSink } from '../../ports/notification-sink.ts';
import type { Database, NotificationsTable } from '../schema.ts';

export function createSqliteNotificationSink(db: Kysely<Database>): NotificationSink {
  return {
    async enqueue(recipient, kind, payload, at) {
      const row = await db
        .insertInto('notifications')
        .values({ recipient, kind, payload: JSON.stringify(payload), created_at: at, delivered_at: null })
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
  };
}

function fromRow(row: Selectable<NotificationsTable>): Notification {
  return {
    id: row.id,
    recipient: row.recipient,
    kind: row.kind,
    payload: JSON.parse(row.payload) as Record<string, unknown>,
    createdAt: row.created_at,
    deliveredAt: row.delivered_at,
  };
}
