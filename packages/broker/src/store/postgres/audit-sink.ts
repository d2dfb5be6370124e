import type { Kysely } from 'kysely';
import { GENESIS_HASH, hashedContent, linkEvents, type AuditEventInput, type AuditRecord, type ChainHashing, type ChainHead } from '../../core/audit-chain.ts';
import type { AuditSink } from '../../ports/audit-sink.ts';
import type { AuditEventsTable, Database } from '../schema.ts';
import { createSqliteAuditSink, type AppendContext } from '../sqlite/audit-sink.ts';
import { kyselyOnlyHandle } from './shared-adapters.ts';

/** Rows per INSERT: 13 parameters a row, far below PostgreSQL's 65535 bound parameters. */
const ROWS_PER_INSERT = 1000;

/**
 * PROTOCOL §9 on PostgreSQL: the chain's lock is its head row, locked `FOR UPDATE` inside the
 * append transaction, so appends to one chain queue on it while appends to other chains (one per
 * replica) run in parallel. The reads are the shared plain-Kysely ones.
 *
 * A chain's first append inserts a placeholder head (seq 0) with `ON CONFLICT DO NOTHING` before
 * locking it: two first appends cannot both see "no head" (the second waits on the first's
 * uncommitted row). The placeholder never outlives its transaction: the real head replaces it
 * before the commit, and a failure rolls both back.
 */
export function createPostgresAuditSink(db: Kysely<Database>, hashing: ChainHashing): AuditSink {
  return {
    ...createSqliteAuditSink(kyselyOnlyHandle(db), hashing),
    async append(chain, inputs, time, seal) {
      if (inputs.length === 0) return [];
      return db.transaction().execute((trx) => appendInTransaction(trx, { chain, time, seal, hashing }, inputs));
    },
  };
}

/** The append, on an open transaction (also a revocation's, with its writes: change-feed.ts). */
export async function appendInTransaction(trx: Kysely<Database>, ctx: AppendContext, inputs: readonly AuditEventInput[]): Promise<AuditRecord[]> {
  const { chain, time, seal, hashing } = ctx;
  const lockHead = () => trx.selectFrom('audit_heads').select(['chain', 'seq', 'hash']).where('chain', '=', chain).forUpdate().executeTakeFirst();
  // The chain's first append creates its head row; every later one only locks it (one round trip).
  let locked = await lockHead();
  if (!locked) {
    await trx.insertInto('audit_heads').values({ chain, seq: 0, hash: GENESIS_HASH, jws: '' }).onConflict((oc) => oc.column('chain').doNothing()).execute();
    locked = await lockHead();
    if (!locked) throw new Error(`audit head of chain ${chain} could not be created`);
  }
  const records = linkEvents(chain, locked.seq === 0 ? null : locked, inputs, time, hashing);
  const lastChunk = Math.floor((records.length - 1) / ROWS_PER_INSERT) * ROWS_PER_INSERT;
  for (let i = 0; i < lastChunk; i += ROWS_PER_INSERT) {
    await trx.insertInto('audit_events').values(records.slice(i, i + ROWS_PER_INSERT).map(toRow)).execute();
  }
  const last = records[records.length - 1]!;
  const next: ChainHead = { chain, seq: last.seq, hash: last.hash };
  // Sealing inside the transaction: if the signer fails, nothing of the append is stored.
  const jws = seal(next, time);
  // The last rows and the new head in one statement (a data-modifying CTE): one round trip fewer.
  await trx
    .with('appended', (db) => db.insertInto('audit_events').values(records.slice(lastChunk).map(toRow)))
    .updateTable('audit_heads').set({ seq: next.seq, hash: next.hash, jws }).where('chain', '=', chain)
    .execute();
  return records;
}

/** The row is the hashed content (wire names) plus the hash, with `data` as JSON text. */
function toRow(record: AuditRecord): AuditEventsTable {
  const { data, ...content } = hashedContent(record) as Omit<AuditEventsTable, 'hash'> & { data: unknown };
  return { ...content, data: JSON.stringify(data), hash: record.hash };
}
