import { sql, type Kysely } from 'kysely';

/**
 * PostgreSQL's 0002: the audit table partitioned by time (`PARTITION BY RANGE (time)`, one
 * partition per UTC month, created ahead by the store, plus a default partition for anything
 * outside them), so old months can be detached and archived without touching the live one.
 *
 * A unique key of a partitioned table must contain the partition key, so the primary key is
 * (chain, seq, time), not (chain, seq): `seq` stays gap-free and unique per chain because it is
 * only ever assigned under the chain head's row lock (`audit-sink.ts`, PROTOCOL §9), and
 * `mandate audit verify` checks it.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('audit_events')
    .addColumn('chain', 'text', (c) => c.notNull())
    .addColumn('seq', 'bigint', (c) => c.notNull())
    .addColumn('time', 'bigint', (c) => c.notNull())
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('actor', 'text')
    .addColumn('approver', 'text')
    .addColumn('mandate_id', 'text')
    .addColumn('jti', 'text')
    .addColumn('evidence_digest', 'text')
    .addColumn('request_id', 'text')
    .addColumn('data', 'text', (c) => c.notNull())
    .addColumn('prev_hash', 'text', (c) => c.notNull())
    .addColumn('hash', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('audit_events_pk', ['chain', 'seq', 'time'])
    .modifyEnd(sql`partition by range (time)`)
    .execute();
  // Indexes on the parent are created on every partition, present and future.
  await db.schema.createIndex('audit_events_by_chain_seq').on('audit_events').columns(['chain', 'seq']).execute();
  await db.schema.createIndex('audit_events_by_mandate').on('audit_events').columns(['mandate_id', 'time']).execute();
  await db.schema.createIndex('audit_events_by_jti').on('audit_events').column('jti').execute();
  await db.schema.createIndex('audit_events_by_actor').on('audit_events').columns(['actor', 'time']).execute();
  await db.schema.createIndex('audit_events_by_time').on('audit_events').column('time').execute();
  await sql`create table audit_events_default partition of audit_events default`.execute(db);

  await db.schema
    .createTable('audit_heads')
    .addColumn('chain', 'text', (c) => c.primaryKey())
    .addColumn('seq', 'bigint', (c) => c.notNull())
    .addColumn('hash', 'text', (c) => c.notNull())
    .addColumn('jws', 'text', (c) => c.notNull())
    .execute();
}
