import type { Kysely, Selectable } from 'kysely';
import type { FindingRecord, FindingRepository, FindingStatus, LifecycleFlag, LifecycleFlagKind, LifecycleFlagRepository } from '../../ports/findings.ts';
import type { AgentFlagsTable, Database, FindingsTable } from '../schema.ts';

/**
 * Findings on SQLite. `record` relies on the unique (fingerprint, file, line) constraint, so two
 * replicas reporting the same finding at once end with one row.
 *
 * @example
 * const findings = createSqliteFindings(handle.db);
 * const { created } = await findings.record(finding);
 */
export function createSqliteFindings(db: Kysely<Database>): FindingRepository {
  const findings = () => db.selectFrom('findings').selectAll();
  return {
    async record(finding) {
      await db.insertInto('findings').values(toRow(finding)).onConflict((oc) => oc.columns(['fingerprint', 'file', 'line']).doNothing()).execute();
      const stored = await findings().where('fingerprint', '=', finding.fingerprint).where('file', '=', finding.file).where('line', '=', finding.line).executeTakeFirstOrThrow();
      // Ids are random: the stored row is ours exactly when this insert won.
      return { finding: fromRow(stored), created: stored.id === finding.id };
    },
    async get(id) {
      const row = await findings().where('id', '=', id).executeTakeFirst();
      return row ? fromRow(row) : null;
    },
    async list(status?: FindingStatus) {
      let query = findings().orderBy('created_at').orderBy('id');
      if (status !== undefined) query = query.where('status', '=', status);
      return (await query.execute()).map(fromRow);
    },
    async decide(id, decision) {
      const result = await db
        .updateTable('findings')
        .set({
          status: decision.status,
          decided_at: decision.decidedAt,
          decided_by: decision.decidedBy,
          dismiss_reason: decision.dismissReason ?? null,
          conversion: decision.conversion ? JSON.stringify(decision.conversion) : null,
        })
        .where('id', '=', id)
        .where('status', '=', 'open')
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },
  };
}

/**
 * Lifecycle flags on SQLite: one row per raised (agent, flag); clearing deletes it (the history
 * is in the audit log).
 */
export function createSqliteLifecycleFlags(db: Kysely<Database>): LifecycleFlagRepository {
  return {
    async list() {
      const rows = await db.selectFrom('agent_flags').selectAll().orderBy('agent_id').orderBy('flag').execute();
      return rows.map(flagFromRow);
    },
    async raise(flag) {
      const result = await db
        .insertInto('agent_flags')
        .values({ agent_id: flag.agentId, flag: flag.flag, raised_at: flag.raisedAt, action: flag.action })
        .onConflict((oc) => oc.columns(['agent_id', 'flag']).doNothing())
        .executeTakeFirst();
      return Number(result.numInsertedOrUpdatedRows ?? 0n) === 1;
    },
    async clear(agentId, flag) {
      const result = await db.deleteFrom('agent_flags').where('agent_id', '=', agentId).where('flag', '=', flag).executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    },
  };
}

function toRow(f: FindingRecord): FindingsTable {
  return {
    id: f.id,
    kind: f.kind,
    service: f.service,
    file: f.file,
    line: f.line,
    fingerprint: f.fingerprint,
    owner_guess: f.ownerGuess,
    reason: f.reason,
    status: f.status,
    created_at: f.createdAt,
    recorded_by: f.recordedBy,
    decided_at: f.decidedAt,
    decided_by: f.decidedBy,
    dismiss_reason: f.dismissReason,
    conversion: f.conversion ? JSON.stringify(f.conversion) : null,
  };
}

function fromRow(row: Selectable<FindingsTable>): FindingRecord {
  return {
    id: row.id,
    kind: row.kind,
    service: row.service,
    file: row.file,
    line: Number(row.line),
    fingerprint: row.fingerprint,
    ownerGuess: row.owner_guess,
    reason: row.reason,
    status: row.status as FindingStatus,
    createdAt: Number(row.created_at),
    recordedBy: row.recorded_by,
    decidedAt: row.decided_at === null ? null : Number(row.decided_at),
    decidedBy: row.decided_by,
    dismissReason: row.dismiss_reason,
    conversion: row.conversion === null ? null : (JSON.parse(row.conversion) as Record<string, unknown>),
  };
}

function flagFromRow(row: Selectable<AgentFlagsTable>): LifecycleFlag {
  return { agentId: row.agent_id, flag: row.flag as LifecycleFlagKind, raisedAt: Number(row.raised_at), action: row.action };
}
