import type { Kysely } from 'kysely';

/**
 * Token Status Lists (draft-ietf-oauth-status-list) and OpenID SSF push streams (PROTOCOL §7).
 * A slot binds one index of one list to one access token until a while after the token's `exp`;
 * whether its bit is set is read from the credential (one source of truth for revocation). SSF
 * streams belong to an audience; the outbox holds each stream's pending SETs, so a failed push is
 * retried and, with replicas, delivered once (one row per stream and event).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('status_lists')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('size', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('status_list_slots')
    .addColumn('list_id', 'text', (c) => c.notNull().references('status_lists.id'))
    .addColumn('idx', 'integer', (c) => c.notNull())
    .addColumn('jti', 'text', (c) => c.notNull())
    .addColumn('reusable_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('status_list_slots_pk', ['list_id', 'idx'])
    .execute();
  await db.schema.createIndex('status_list_slots_by_jti').on('status_list_slots').column('jti').execute();
  await createSsfTables(db);
}

async function createSsfTables(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('ssf_streams')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('audience', 'text', (c) => c.notNull())
    .addColumn('endpoint_url', 'text', (c) => c.notNull())
    .addColumn('events_requested', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('reason', 'text')
    .addColumn('description', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('ssf_streams_by_audience').on('ssf_streams').column('audience').execute();
  await db.schema
    .createTable('ssf_stream_subjects')
    .addColumn('stream_id', 'text', (c) => c.notNull().references('ssf_streams.id').onDelete('cascade'))
    .addColumn('subject_key', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('ssf_stream_subjects_pk', ['stream_id', 'subject_key'])
    .execute();
  await db.schema
    .createTable('ssf_outbox')
    .addColumn('stream_id', 'text', (c) => c.notNull().references('ssf_streams.id').onDelete('cascade'))
    .addColumn('event_id', 'text', (c) => c.notNull())
    .addColumn('payload', 'text', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('next_attempt_at', 'bigint', (c) => c.notNull())
    .addColumn('delivered_at', 'bigint')
    .addColumn('failed_at', 'bigint')
    .addColumn('last_error', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('ssf_outbox_pk', ['stream_id', 'event_id'])
    .execute();
  await db.schema.createIndex('ssf_outbox_due').on('ssf_outbox').columns(['delivered_at', 'failed_at', 'next_attempt_at']).execute();
  await db.schema
    .createTable('ssf_cursors')
    .addColumn('name', 'text', (c) => c.primaryKey())
    .addColumn('cursor', 'bigint', (c) => c.notNull())
    .execute();
}
