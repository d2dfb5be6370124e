import type { CreateTableBuilder, Kysely } from 'kysely';

/** PROTOCOL §9: hash-chained audit events and the sealed head of each chain. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await auditEventsTable(db).addPrimaryKeyConstraint('audit_events_pk', ['chain', 'seq']).execute();
  await createAuditIndexesAndHeads(db);
}

/** The audit table's columns; each dialect adds its key (and PostgreSQL its partitioning). */
export function auditEventsTable(db: Kysely<unknown>): CreateTableBuilder<'audit_events', string> {
  return db.schema
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
    .addColumn('hash', 'text', (c) => c.notNull());
}

/** The audit table's lookup indexes and the table of sealed chain heads. */
export async function createAuditIndexesAndHeads(db: Kysely<unknown>): Promise<void> {
  await db.schema.createIndex('audit_events_by_mandate').on('audit_events').columns(['mandate_id', 'time']).execute();
  await db.schema.createIndex('audit_events_by_jti').on('audit_events').column('jti').execute();
  await db.schema.createIndex('audit_events_by_actor').on('audit_events').columns(['actor', 'time']).execute();
  await db.schema.createIndex('audit_events_by_time').on('audit_events').column('time').execute();

  await db.schema
    .createTable('audit_heads')
    .addColumn('chain', 'text', (c) => c.primaryKey())
    .addColumn('seq', 'bigint', (c) => c.notNull())
    .addColumn('hash', 'text', (c) => c.notNull())
    .addColumn('jws', 'text', (c) => c.notNull())
    .execute();
}
