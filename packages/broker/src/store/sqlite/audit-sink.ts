import type { Selectable } from 'kysely';
import { hashedContent, linkEvents, type AuditEventInput, type AuditEventType, type AuditRecord, type ChainHashing, type ChainHead } from '../../core/audit-chain.ts';
import type { AuditSink, HeadSealer } from '../../ports/audit-sink.ts';
import { filtered } from '../audit-filter.ts';
import type { AuditEventsTable } from '../schema.ts';
import type { SqliteHandle } from './open.ts';
import { transactImmediate, type SyncQueries } from './sync-transaction.ts';

/** PROTOCOL §9 on SQLite: the chain's lock is the database write lock (`BEGIN IMMEDIATE`). */
export function createSqliteAuditSink(handle: SqliteHandle, hashing: ChainHashing): AuditSink {
  const { db } = handle;
  const events = () => db.selectFrom('audit_events').selectAll();
  return {
    async append(chain, inputs, time, seal) {
      if (inputs.length === 0) return [];
      return transactImmediate(handle, (q) => appendLocked(handle, q, { chain, time, seal, hashing }, inputs));
    },
    async head(chain) {
      const row = await db.selectFrom('audit_heads').selectAll().where('chain', '=', chain).executeTakeFirst();
      return row ?? null;
    },
    async read(chain, fromSeq, limit) {
      const rows = await events().where('chain', '=', chain).where('seq', '>=', fromSeq).orderBy('seq').limit(limit).execute();
      return rows.map(fromRow);
    },
    async tail(limit) {
      const rows = await events().orderBy('time', 'desc').orderBy('chain', 'desc').orderBy('seq', 'desc').limit(limit).execute();
      return rows.reverse().map(fromRow);
    },
    async byMandate(mandateId, limit) {
      const rows = await events().where('mandate_id', '=', mandateId).orderBy('time').orderBy('chain').orderBy('seq').limit(limit).execute();
      return rows.map(fromRow);
    },
    async byJti(jti) {
      const rows = await events().where('jti', '=', jti).orderBy('time').orderBy('chain').orderBy('seq').execute();
      return rows.map(fromRow);
    },
    async window(fromTime, toTime, limit) {
      const rows = await events().where('time', '>=', fromTime).where('time', '<', toTime).orderBy('time').orderBy('chain').orderBy('seq').limit(limit).execute();
      return rows.map(fromRow);
    },
    async query(filter, limit) {
      const rows = await filtered(events(), filter).orderBy('time', 'desc').orderBy('chain', 'desc').orderBy('seq', 'desc').limit(limit).execute();
      return rows.map(fromRow);
    },
    async heads() {
      // Only sealed heads: a PostgreSQL first append's placeholder (seq 0) is never committed, but skip it anyway.
      return db.selectFrom('audit_heads').select(['chain', 'seq', 'hash']).where('seq', '>', 0).orderBy('chain').execute();
    },
    async chains() {
      // Chains with events or a head: a deleted head row must not hide its chain's events.
      const rows = await db
        .selectFrom('audit_heads')
        .select('chain')
        .union(db.selectFrom('audit_events').select('chain').distinct())
        .orderBy('chain')
        .execute();
      return rows.map((row) => row.chain);
    },
  };
}

export interface AppendContext {
  chain: string;
  time: number;
  seal: HeadSealer;
  hashing: ChainHashing;
}

/** Runs with the write lock held: read the head, link, store events and the sealed new head. */
export function appendLocked({ db }: SqliteHandle, q: SyncQueries, ctx: AppendContext, inputs: readonly AuditEventInput[]): AuditRecord[] {
  const head = q.first(db.selectFrom('audit_heads').select(['chain', 'seq', 'hash']).where('chain', '=', ctx.chain)) ?? null;
  const records = linkEvents(ctx.chain, head, inputs, ctx.time, ctx.hashing);
  q.run(db.insertInto('audit_events').values(records.map(toRow)));
  const last = records[records.length - 1]!;
  const next: ChainHead = { chain: ctx.chain, seq: last.seq, hash: last.hash };
  const jws = ctx.seal(next, ctx.time);
  q.run(
    db
      .insertInto('audit_heads')
      .values({ ...next, jws })
      .onConflict((oc) => oc.column('chain').doUpdateSet({ seq: next.seq, hash: next.hash, jws })),
  );
  return records;
}

/** The row is the hashed content (wire names) plus the hash, with `data` as JSON text. */
function toRow(record: AuditRecord): AuditEventsTable {
  const { data, ...content } = hashedContent(record) as Omit<AuditEventsTable, 'hash'> & { data: unknown };
  return { ...content, data: JSON.stringify(data), hash: record.hash };
}

function fromRow(row: Selectable<AuditEventsTable>): AuditRecord {
  return {
    chain: row.chain,
    seq: row.seq,
    time: row.time,
    type: row.type as AuditEventType,
    actor: row.actor,
    approver: row.approver,
    mandateId: row.mandate_id,
    jti: row.jti,
    evidenceDigest: row.evidence_digest,
    requestId: row.request_id,
    data: JSON.parse(row.data) as Record<string, unknown>,
    prevHash: row.prev_hash,
    hash: row.hash,
  };
}
