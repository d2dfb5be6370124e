import type { SelectQueryBuilder } from 'kysely';
import type { AuditFilter } from '../ports/audit-sink.ts';
import type { Database } from './schema.ts';

/**
 * `AuditSink.query`'s WHERE clause, dialect-neutral (plain comparisons, `in`, `or`) so the SQLite
 * and PostgreSQL adapters share it. The `before` cursor is the (time, chain, seq) order key.
 */
export function filtered<O>(query: SelectQueryBuilder<Database, 'audit_events', O>, filter: AuditFilter): SelectQueryBuilder<Database, 'audit_events', O> {
  let q = query;
  if (filter.type) q = q.where('type', '=', filter.type);
  if (filter.mandateId) q = q.where('mandate_id', '=', filter.mandateId);
  if (filter.fromTime !== undefined) q = q.where('time', '>=', filter.fromTime);
  if (filter.toTime !== undefined) q = q.where('time', '<', filter.toTime);
  const human = filter.human;
  if (human) q = q.where((eb) => eb.or([eb('actor', '=', human), eb('approver', '=', human)]));
  const agent = filter.agent;
  if (agent)
    q = q.where((eb) => eb.or([eb('actor', '=', agent.id), ...(agent.mandateIds.length > 0 ? [eb('mandate_id', 'in', [...agent.mandateIds])] : [])]));
  const before = filter.before;
  if (before)
    q = q.where((eb) => eb.or([
      eb('time', '<', before.time),
      eb.and([eb('time', '=', before.time), eb('chain', '<', before.chain)]),
      eb.and([eb('time', '=', before.time), eb('chain', '=', before.chain), eb('seq', '<', before.seq)]),
    ]));
  return q;
}
