import type { Kysely, Selectable } from 'kysely';
import type { DeliveryStatus, WebhookAttempt, WebhookDelivery, WebhookDeliveryRepository } from '../../ports/webhook-deliveries.ts';
import type { Database, WebhookAttemptsTable, WebhookDeliveriesTable } from '../schema.ts';

/** The webhook queue and its attempt log; plain Kysely, conditional writes for the lease. */
export function createSqliteWebhookDeliveries(db: Kysely<Database>): WebhookDeliveryRepository {
  return {
    async insert(d) {
      await db.insertInto('webhook_deliveries').values({
        id: d.id, webhook: d.webhook, notification_id: d.notificationId, kind: d.kind, body: d.body, status: d.status, attempts: d.attempts,
        next_attempt_at: d.nextAttemptAt, last_status_code: d.lastStatusCode, last_error: d.lastError, created_at: d.createdAt, delivered_at: d.deliveredAt,
      }).execute();
    },
    async get(id) {
      const row = await db.selectFrom('webhook_deliveries').selectAll().where('id', '=', id).executeTakeFirst();
      return row ? deliveryFromRow(row) : null;
    },
    async due(at, limit) {
      const rows = await db.selectFrom('webhook_deliveries').selectAll().where('status', '=', 'pending').where('next_attempt_at', '<=', at)
        .orderBy('next_attempt_at').orderBy('id').limit(limit).execute();
      return rows.map(deliveryFromRow);
    },
    async claim(id, expected, until) {
      const result = await db.updateTable('webhook_deliveries').set({ next_attempt_at: until })
        .where('id', '=', id).where('status', '=', 'pending').where('next_attempt_at', '=', expected).executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },
    async recordAttempt(a, outcome) {
      await db.insertInto('webhook_attempts').values({
        delivery_id: a.deliveryId, attempt: a.attempt, at: a.at, status_code: a.statusCode, error_class: a.errorClass, duration_ms: a.durationMs, next_attempt_at: a.nextAttemptAt,
      }).onConflict((oc) => oc.columns(['delivery_id', 'attempt']).doNothing()).execute();
      await db.updateTable('webhook_deliveries').set({
        status: outcome.status, attempts: a.attempt, next_attempt_at: a.nextAttemptAt, last_status_code: a.statusCode, last_error: a.errorClass, delivered_at: outcome.deliveredAt,
      }).where('id', '=', a.deliveryId).execute();
    },
    async list(filter, limit) {
      let query = db.selectFrom('webhook_deliveries').selectAll();
      if (filter.status) query = query.where('status', '=', filter.status);
      if (filter.webhook) query = query.where('webhook', '=', filter.webhook);
      return (await query.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(limit).execute()).map(deliveryFromRow);
    },
    async attempts(deliveryId) {
      const rows = await db.selectFrom('webhook_attempts').selectAll().where('delivery_id', '=', deliveryId).orderBy('attempt').execute();
      return rows.map(attemptFromRow);
    },
  };
}

const num = (v: number | null) => (v === null ? null : Number(v));

function deliveryFromRow(r: Selectable<WebhookDeliveriesTable>): WebhookDelivery {
  return {
    id: r.id, webhook: r.webhook, notificationId: Number(r.notification_id), kind: r.kind, body: r.body, status: r.status as DeliveryStatus,
    attempts: Number(r.attempts), nextAttemptAt: num(r.next_attempt_at), lastStatusCode: num(r.last_status_code), lastError: r.last_error,
    createdAt: Number(r.created_at), deliveredAt: num(r.delivered_at),
  };
}

function attemptFromRow(r: Selectable<WebhookAttemptsTable>): WebhookAttempt {
  return {
    deliveryId: r.delivery_id, attempt: Number(r.attempt), at: Number(r.at), statusCode: num(r.status_code), errorClass: r.error_class,
    durationMs: Number(r.duration_ms), nextAttemptAt: num(r.next_attempt_at),
  };
}
