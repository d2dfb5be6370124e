import { sql, type Kysely } from 'kysely';
import { GENESIS_HASH, hashedContent, linkEvents, type AuditEventInput, type AuditRecord, type ChainHashing, type ChainHead } from '../../core/audit-chain.ts';
import type { AuditSink } from '../../ports/audit-sink.ts';
import type { AuditEventsTable, CredentialsTable, Database } from '../schema.ts';
import { createSqliteAuditSink, type AppendContext } from '../sqlite/audit-sink.ts';
import { kyselyOnlyHandle } from './shared-adapters.ts';

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
  return appendLocked(trx, ctx, inputs, await lockHead(trx, ctx.chain));
}

/**
 * The chain's head row, locked `FOR UPDATE`. The chain's first append creates it; every later one
 * only locks it (one round trip).
 */
export async function lockHead(trx: Kysely<Database>, chain: string): Promise<LockedHead> {
  const locked = () => trx.selectFrom('audit_heads').select(['seq', 'hash']).where('chain', '=', chain).forUpdate().executeTakeFirst();
  const head = await locked();
  if (head) return head;
  await trx.insertInto('audit_heads').values({ chain, seq: 0, hash: GENESIS_HASH, jws: '' }).onConflict((oc) => oc.column('chain').doNothing()).execute();
  const created = await locked();
  if (!created) throw new Error(`audit head of chain ${chain} could not be created`);
  return created;
}

/** A chain's head as its locked row holds it: seq 0 is the placeholder of a chain with no event yet. */
export interface LockedHead {
  seq: number;
  hash: string;
}

/**
 * The append once the chain's head row is locked (`locked`, as read under the lock): the records
 * linked after it, the new sealed head and `alongside` (a mint batch's credentials) in one
 * statement (`appendStatement`).
 */
export async function appendLocked(trx: Kysely<Database>, ctx: AppendContext, inputs: readonly AuditEventInput[], locked: LockedHead, alongside: CredentialsTable[] = []): Promise<AuditRecord[]> {
  const { chain, time, seal, hashing } = ctx;
  const records = linkEvents(chain, locked.seq === 0 ? null : { chain, ...locked }, inputs, time, hashing);
  const last = records[records.length - 1]!;
  const next: ChainHead = { chain, seq: last.seq, hash: last.hash };
  // Sealing inside the transaction: if the signer fails, nothing of the append is stored.
  await appendStatement(next, seal(next, time), records.map(toRow), alongside).execute(trx);
  return records;
}

/**
 * The credentials, the audit events and the new head as one data-modifying statement of fixed text
 * (one array per column, not a row of parameters each): PostgreSQL parses and plans it once per
 * connection (prepared.ts), whatever the number of rows, where a multi-row `VALUES` was a new text
 * for every batch size, planned again each time.
 */
function appendStatement(head: ChainHead, jws: string, events: readonly AuditEventsTable[], credentials: readonly CredentialsTable[]) {
  const column = <T, K extends keyof T>(rows: readonly T[], key: K) => rows.map((row) => row[key]);
  const c = (key: keyof CredentialsTable) => column(credentials, key);
  const e = (key: keyof AuditEventsTable) => column(events, key);
  return sql`
    with issued as (
      insert into credentials (jti, mandate_id, agent_id, subject, audience, jkt, issued_at, expires_at, revoked_at)
      select * from unnest(${c('jti')}::text[], ${c('mandate_id')}::text[], ${c('agent_id')}::text[], ${c('subject')}::text[], ${c('audience')}::text[],
        ${c('jkt')}::text[], ${c('issued_at')}::bigint[], ${c('expires_at')}::bigint[], ${c('revoked_at')}::bigint[])),
    appended as (
      insert into audit_events (chain, seq, time, type, actor, approver, mandate_id, jti, evidence_digest, request_id, data, prev_hash, hash)
      select * from unnest(${e('chain')}::text[], ${e('seq')}::bigint[], ${e('time')}::bigint[], ${e('type')}::text[], ${e('actor')}::text[],
        ${e('approver')}::text[], ${e('mandate_id')}::text[], ${e('jti')}::text[], ${e('evidence_digest')}::text[], ${e('request_id')}::text[],
        ${e('data')}::text[], ${e('prev_hash')}::text[], ${e('hash')}::text[]))
    update audit_heads set seq = ${head.seq}, hash = ${head.hash}, jws = ${jws} where chain = ${head.chain}`;
}

/** The row is the hashed content (wire names) plus the hash, with `data` as JSON text. */
function toRow(record: AuditRecord): AuditEventsTable {
  const { data, ...content } = hashedContent(record) as Omit<AuditEventsTable, 'hash'> & { data: unknown };
  return { ...content, data: JSON.stringify(data), hash: record.hash };
}
