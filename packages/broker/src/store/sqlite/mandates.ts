import { LIVE_STATUSES } from '../../core/mandate.ts';
import type { Selectable } from 'kysely';
import type { AgentTask, Approval, Mandate, MandateStatus } from '../../core/mandate.ts';
import type { MandatePatch, MandateRepository } from '../../ports/mandates.ts';
import type { MandatesTable } from '../schema.ts';
import type { SqliteHandle } from './open.ts';
import { transactImmediate } from './sync-transaction.ts';

/** Stored statuses that can still yield tokens (PROTOCOL §8). */
const LIVE = LIVE_STATUSES;

export function createSqliteMandates(handle: SqliteHandle): MandateRepository {
  const { db } = handle;
  const mandates = () => db.selectFrom('mandates').selectAll();
  const newestFirst = () => mandates().orderBy('created_at', 'desc').orderBy('id', 'desc');
  const one = (row: Selectable<MandatesTable> | undefined) => (row ? fromRow(row) : null);
  return {
    async insert(mandate) {
      await db.insertInto('mandates').values(toRow(mandate)).execute();
    },
    get: async (id) => one(await mandates().where('id', '=', id).executeTakeFirst()),
    getByAuthReqIdHash: async (hash) => one(await mandates().where('auth_req_id_hash', '=', hash).executeTakeFirst()),
    getByGrantHash: async (hash) => one(await mandates().where('grant_hash', '=', hash).executeTakeFirst()),
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
      const query = db
        .updateTable('mandates')
        // `status = status` keeps the SET non-empty, so an empty patch is a bare status check.
        .set((eb) => ({ status: eb.ref('status'), ...toPatchRow(patch) }))
        .where('id', '=', id)
        .where('status', 'in', from);
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

/** Only the fields present in the patch; `undefined` leaves a column alone, `null` clears it. */
function toPatchRow(patch: MandatePatch): Partial<MandatesTable> {
  const row: Partial<MandatesTable> = {};
  if (patch.status !== undefined) row.status = patch.status;
  if (patch.approval !== undefined) row.approval = patch.approval === null ? null : JSON.stringify(patch.approval);
  if (patch.decidedAt !== undefined) row.decided_at = patch.decidedAt;
  if (patch.grantHash !== undefined) row.grant_hash = patch.grantHash;
  if (patch.endedAt !== undefined) row.ended_at = patch.endedAt;
  if (patch.endReason !== undefined) row.end_reason = patch.endReason;
  return row;
}

function toRow(mandate: Mandate): MandatesTable {
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
  };
}

function fromRow(row: Selectable<MandatesTable>): Mandate {
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
  };
}
