import type { Kysely } from 'kysely';

/**
 * Findings (borrowed human credentials from the scanner; fingerprints only, never secrets) and the
 * lifecycle flags currently raised on agents (orphan, stale, review overdue). Dialect-neutral DDL.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('findings')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('service', 'text', (c) => c.notNull())
    .addColumn('file', 'text', (c) => c.notNull())
    .addColumn('line', 'integer', (c) => c.notNull())
    .addColumn('fingerprint', 'text', (c) => c.notNull())
    .addColumn('owner_guess', 'text')
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('recorded_by', 'text', (c) => c.notNull())
    .addColumn('decided_at', 'bigint')
    .addColumn('decided_by', 'text')
    .addColumn('dismiss_reason', 'text')
    .addColumn('conversion', 'text')
    // The same secret at the same place is one finding, however often it is reported.
    .addUniqueConstraint('findings_location_unique', ['fingerprint', 'file', 'line'])
    .execute();
  await db.schema.createIndex('findings_by_status').on('findings').columns(['status', 'created_at']).execute();

  await db.schema
    .createTable('agent_flags')
    .addColumn('agent_id', 'text', (c) => c.notNull().references('agents.id'))
    .addColumn('flag', 'text', (c) => c.notNull())
    .addColumn('raised_at', 'bigint', (c) => c.notNull())
    .addColumn('action', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('agent_flags_pk', ['agent_id', 'flag'])
    .execute();
}
