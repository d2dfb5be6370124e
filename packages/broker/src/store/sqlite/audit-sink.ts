import type { Kysely, Selectable } from 'kysely';
import { hashedContent, linkEvents, type AuditEventInput, type AuditEventType, type AuditRecord, type ChainHashing, type ChainHead } from '../../core/audit-chain.ts';
import type { AuditSink, HeadSealer } from '../../ports/audit-sink.ts';
import { filtered } from '../audit-filter.ts';
import type { AuditEventsTable, Database } from '../schema.ts';
import { prepared } from '../prepared.ts';
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

/** The append's statements, compiled once per database (store/prepared.ts). */
const appendStatements = new WeakMap<Kysely<Database>, ReturnType<typeof buildAppendStatements>>();

function buildAppendStatements(db: Kysely<Database>) {
  return {
    head: prepared<{ chain: string }, ChainHead>((p) => db.selectFrom('audit_heads').select(['chain', 'seq', 'hash']).where('chain', '=', p('chain'))),
    event: prepared<AuditEventsTable>((p) => db.insertInto('audit_events').values({
      chain: p('chain'), seq: p('seq'), time: p('time'), type: p('type'), actor: p('actor'), approver: p('approver'), mandate_id: p('mandate_id'),
      jti: p('jti'), evidence_digest: p('evidence_digest'), request_id: p('request_id'), data: p('data'), prev_hash: p('prev_hash'), hash: p('hash'),
    })),
    moveHead: prepared<{ chain: string; seq: number; hash: string }>((p) =>
      db.insertInto('audit_heads').values({ chain: p('chain'), seq: p('seq'), hash: p('hash'), jws: '' })
        .onConflict((oc) => oc.column('chain').doUpdateSet({ seq: p('seq'), hash: p('hash') }))),
    sealHead: prepared<{ chain: string; jws: string }>((p) => db.updateTable('audit_heads').set({ jws: p('jws') }).where('chain', '=', p('chain'))),
  };
}

/**
 * Runs with the write lock held: read the head, link, store the events and the new head. The head
 * is sealed once per group commit, just before it commits (`atCommit`): the last append of the
 * batch seals the head as it then stands, so a batch of N appends costs one signature, not N.
 */
export function appendLocked({ db }: SqliteHandle, q: SyncQueries, ctx: AppendContext, inputs: readonly AuditEventInput[]): AuditRecord[] {
  let statements = appendStatements.get(db);
  if (!statements) appendStatements.set(db, (statements = buildAppendStatements(db)));
  const { head, event, moveHead, sealHead } = statements;
  const records = linkEvents(ctx.chain, q.first(head({ chain: ctx.chain })) ?? null, inputs, ctx.time, ctx.hashing);
  for (const record of records) q.run(event(toRow(record)));
  const last = records[records.length - 1]!;
  q.run(moveHead({ chain: ctx.chain, seq: last.seq, hash: last.hash }));
  q.atCommit(`audit-head:${ctx.chain}`, () => {
    const current = q.first(head({ chain: ctx.chain }))!;
    q.run(sealHead({ chain: ctx.chain, jws: ctx.seal(current, ctx.time) }));
  });
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
