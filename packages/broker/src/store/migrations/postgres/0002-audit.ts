import { sql, type Kysely } from 'kysely';
import { auditEventsTable, createAuditIndexesAndHeads } from '../0002-audit.ts';

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
  await auditEventsTable(db)
    .addPrimaryKeyConstraint('audit_events_pk', ['chain', 'seq', 'time'])
    .modifyEnd(sql`partition by range (time)`)
    .execute();
  // Indexes on the parent are created on every partition, present and future.
  await db.schema.createIndex('audit_events_by_chain_seq').on('audit_events').columns(['chain', 'seq']).execute();
  await createAuditIndexesAndHeads(db);
  await sql`create table audit_events_default partition of audit_events default`.execute(db);
}
