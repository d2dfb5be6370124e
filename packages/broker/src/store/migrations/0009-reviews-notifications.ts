import type { Kysely } from 'kysely';

/**
 * Notifications read in the console inbox, access reviews of active mandates, and the log of
 * signed webhook deliveries. Plain schema builder types only, so PostgreSQL runs it unchanged.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  // Inbox badge: a notification is unread until its recipient marks it read.
  await db.schema.alterTable('notifications').addColumn('read_at', 'bigint').execute();
  await db.schema.createIndex('notifications_by_recipient').on('notifications').columns(['recipient', 'read_at', 'id']).execute();

  // One row per reviewed mandate: when the next certification is due and the last decision.
  await db.schema
    .createTable('mandate_reviews')
    .addColumn('mandate_id', 'text', (c) => c.primaryKey().references('mandates.id'))
    .addColumn('agent_id', 'text', (c) => c.notNull())
    .addColumn('due_at', 'bigint', (c) => c.notNull())
    .addColumn('reminded_at', 'bigint')
    .addColumn('reviewed_at', 'bigint')
    .addColumn('reviewed_by', 'text')
    .addColumn('decision', 'text')
    .execute();
  await db.schema.createIndex('mandate_reviews_by_due').on('mandate_reviews').columns(['due_at', 'mandate_id']).execute();
  await db.schema.createIndex('mandate_reviews_by_agent').on('mandate_reviews').columns(['agent_id', 'due_at']).execute();

  // A webhook delivery: the exact body signed on every attempt, and where its retries stand.
  await db.schema
    .createTable('webhook_deliveries')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('webhook', 'text', (c) => c.notNull())
    .addColumn('notification_id', 'bigint', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('body', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull())
    .addColumn('next_attempt_at', 'bigint')
    .addColumn('last_status_code', 'integer')
    .addColumn('last_error', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('delivered_at', 'bigint')
    .execute();
  await db.schema.createIndex('webhook_deliveries_due').on('webhook_deliveries').columns(['status', 'next_attempt_at']).execute();
  await db.schema.createIndex('webhook_deliveries_by_created').on('webhook_deliveries').columns(['created_at', 'id']).execute();

  // The delivery log: one row per attempt (status code or error class, and when the next one is due).
  await db.schema
    .createTable('webhook_attempts')
    .addColumn('delivery_id', 'text', (c) => c.notNull().references('webhook_deliveries.id'))
    .addColumn('attempt', 'integer', (c) => c.notNull())
    .addColumn('at', 'bigint', (c) => c.notNull())
    .addColumn('status_code', 'integer')
    .addColumn('error_class', 'text')
    .addColumn('duration_ms', 'integer', (c) => c.notNull())
    .addColumn('next_attempt_at', 'bigint')
    .addPrimaryKeyConstraint('webhook_attempts_pk', ['delivery_id', 'attempt'])
    .execute();
}
