import { LIVE_STATUSES } from '../../core/mandate.ts';
import type { Selectable } from 'kysely';
import type { AgentTask, Approval, Mandate, MandateStatus } from '../../core/mandate.ts';
import type { CarvedUses, MandateRepository } from '../../ports/mandates.ts';
import { transitionStatement } from '../mandate-rows.ts';
import type { MandatesTable } from '../schema.ts';
import { prepared } from '../prepared.ts';
import type { SqliteHandle } from './open.ts';
import { transactImmediate, type SyncQueries } from './sync-transaction.ts';

/** Stored statuses that can still yield tokens (PROTOCOL §8). */
const LIVE = LIVE_STATUSES;

type MandateRow = MandatesTable;

export function createSqliteMandates(handle: SqliteHandle): MandateRepository {
  const { db } = handle;
  const mandates = () => db.selectFrom('mandates').selectAll();
  const newestFirst = () => mandates().orderBy('created_at', 'desc').orderBy('id', 'desc');
  const one = (row: Selectable<MandateRow> | undefined) => (row ? fromRow(row) : null);
  /** On the mint path: compiled once (store/prepared.ts). */
  const byGrantHash = prepared<{ hash: string }, Selectable<MandateRow>>((p) => mandates().where('grant_hash', '=', p('hash')));

  /** Takes `count` uses from the parent's counter only if that many remain: one conditional statement. */
  const carve = (q: SyncQueries, uses: CarvedUses) =>
    uses.carveFrom === null ||
    q.run(db.updateTable('use_counters').set((eb) => ({ remaining: eb('remaining', '-', uses.count) })).where('key', '=', uses.carveFrom).where('remaining', '>=', uses.count)) === 1;

  return {
    async insert(mandate) {
      await db.insertInto('mandates').values(toRow(mandate)).execute();
    },
    get: async (id) => one(await mandates().where('id', '=', id).executeTakeFirst()),
    getByAuthReqIdHash: async (hash) => one(await mandates().where('auth_req_id_hash', '=', hash).executeTakeFirst()),
    getByGrantHash: async (hash) => one((await db.executeQuery(byGrantHash({ hash }))).rows[0]),
    getBySubGrantHash: async (hash) => one(await mandates().where('sub_grant_hash', '=', hash).executeTakeFirst()),
    /** Carve, insert and count in one transaction: a failure of any leaves the parent's uses untouched. */
    insertChild: (child, uses) => transactImmediate(handle, (q) => {
      if (!child.hop) throw new Error('insertChild needs a mandate with a hop');
      if (uses && !carve(q, uses)) return false;
      q.run(db.insertInto('mandates').values(toRow(child)));
      if (uses) q.run(db.insertInto('use_counters').values({ key: child.id, total: uses.count, remaining: uses.count }));
      return true;
    }),
    async listChildren(parentId) {
      const rows = await mandates().where('parent_mandate_id', '=', parentId).orderBy('created_at').orderBy('id').execute();
      return rows.map(fromRow);
    },
    async list(filter, limit) {
      let query = newestFirst().limit(limit);
      if (filter.status !== undefined) query = query.where('status', '=', filter.status);
      if (filter.agentId !== undefined) query = query.where('agent_id', '=', filter.agentId);
      if (filter.approverId !== undefined) query = query.where('approver_id', '=', filter.approverId);
      return (await query.execute()).map(fromRow);
    },
    /** One conditional statement: of concurrent transitions from the same state, one changes the row. */
    async transition(id, from, patch) {
      if (from.length === 0) return false;
      const query = transitionStatement(db, id, from, patch);
      // On the mint path (the check that a mandate is still live): through the group commit.
      return (await transactImmediate(handle, (q) => q.run(query))) === 1;
    },
    /** Read, compare and write under the write lock, so each poll sees the one before it. */
    recordPoll: (id, at, slowDownSeconds) => transactImmediate(handle, (q) => {
      const row = q.first(db.selectFrom('mandates').select(['interval', 'last_polled_at']).where('id', '=', id));
      if (!row) throw new Error(`unknown mandate ${id}`);
      const slowDown = row.last_polled_at !== null && at - row.last_polled_at < row.interval * 1000;
      const interval = slowDown ? row.interval + slowDownSeconds : row.interval;
      q.run(db.updateTable('mandates').set({ interval, last_polled_at: at }).where('id', '=', id));
      return { slowDown, interval };
    }),
    async listLive(filter) {
      let query = newestFirst().where('status', 'in', LIVE);
      if (filter.agentId !== undefined) query = query.where('agent_id', '=', filter.agentId);
      if (filter.approverId !== undefined) query = query.where('approver_id', '=', filter.approverId);
      return (await query.execute()).map(fromRow);
    },
  };
}

function toRow(mandate: Mandate): MandateRow {
  return {
    id: mandate.id,
    agent_id: mandate.agentId,
    approver_id: mandate.approverId,
    status: mandate.status,
    task: JSON.stringify(mandate.task),
    binding_message: mandate.bindingMessage,
    task_document: mandate.taskDocument,
    task_s256: mandate.taskS256,
    attestation_id: mandate.attestationId,
    attestation_digest: mandate.attestationDigest,
    dpop_jkt: mandate.dpopJkt,
    auth_req_id_hash: mandate.authReqIdHash,
    request_expires_at: mandate.requestExpiresAt,
    interval: mandate.interval,
    last_polled_at: mandate.lastPolledAt,
    approval: mandate.approval === null ? null : JSON.stringify(mandate.approval),
    decided_at: mandate.decidedAt,
    grant_hash: mandate.grantHash,
    created_at: mandate.createdAt,
    ended_at: mandate.endedAt,
    end_reason: mandate.endReason,
    parent_mandate_id: mandate.hop?.parentId ?? null,
    depth: mandate.hop?.depth ?? 0,
    sub_grant_hash: mandate.hop?.subGrantHash ?? null,
  };
}

function fromRow(row: Selectable<MandateRow>): Mandate {
  return {
    id: row.id,
    agentId: row.agent_id,
    approverId: row.approver_id,
    status: row.status as MandateStatus,
    task: JSON.parse(row.task) as AgentTask,
    bindingMessage: row.binding_message,
    taskDocument: row.task_document,
    taskS256: row.task_s256,
    attestationId: row.attestation_id,
    attestationDigest: row.attestation_digest,
    dpopJkt: row.dpop_jkt,
    authReqIdHash: row.auth_req_id_hash,
    requestExpiresAt: row.request_expires_at,
    interval: row.interval,
    lastPolledAt: row.last_polled_at,
    approval: row.approval === null ? null : (JSON.parse(row.approval) as Approval),
    decidedAt: row.decided_at,
    grantHash: row.grant_hash,
    createdAt: row.created_at,
    endedAt: row.ended_at,
    endReason: row.end_reason,
    // Only sub-grants' mandates carry a hop: a human-approved mandate reads back exactly as stored.
    ...(row.parent_mandate_id !== null ? { hop: { parentId: row.parent_mandate_id, depth: row.depth, subGrantHash: row.sub_grant_hash ?? '' } } : {}),
  };
}

/** The row mapping, for PostgreSQL's coalesced read of the same table. */
export { fromRow as mandateFromRow };
