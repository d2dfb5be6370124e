import type { AuditRecord } from '../core/audit-chain.ts';
import type { AuditFilter, AuditSink } from '../ports/audit-sink.ts';

/** Most events a fallback search reads (an adapter without `query`), so one page stays cheap. */
const FALLBACK_SCAN = 5000;

export interface AuditPage {
  events: AuditRecord[];
  /** Pass as `filter.before` for the next (older) page; null on the last page. */
  next: AuditFilter['before'] | null;
}

/** One page of audit events, newest first, with the cursor of the next page. */
export async function queryAudit(sink: AuditSink, filter: AuditFilter, pageSize: number): Promise<AuditPage> {
  const rows = sink.query ? await sink.query(filter, pageSize + 1) : await scanWindow(sink, filter, pageSize + 1);
  const events = rows.slice(0, pageSize);
  const last = events[events.length - 1];
  return { events, next: rows.length > pageSize && last ? { time: last.time, chain: last.chain, seq: last.seq } : null };
}

/** Without `query`: the newest FALLBACK_SCAN events of the time range, filtered here. */
async function scanWindow(sink: AuditSink, filter: AuditFilter, limit: number): Promise<AuditRecord[]> {
  const to = filter.before ? filter.before.time + 1 : (filter.toTime ?? Number.MAX_SAFE_INTEGER);
  const rows = await sink.window(filter.fromTime ?? 0, to, FALLBACK_SCAN);
  return rows.reverse().filter((event) => matches(event, filter)).slice(0, limit);
}

export function matches(event: AuditRecord, filter: AuditFilter): boolean {
  const { type, mandateId, human, agent, before } = filter;
  if (type && event.type !== type) return false;
  if (mandateId && event.mandateId !== mandateId) return false;
  if (human && event.actor !== human && event.approver !== human) return false;
  if (agent && event.actor !== agent.id && !(event.mandateId !== null && agent.mandateIds.includes(event.mandateId))) return false;
  if (filter.toTime !== undefined && event.time >= filter.toTime) return false;
  if (before && !isBefore(event, before)) return false;
  return true;
}

function isBefore(event: AuditRecord, cursor: NonNullable<AuditFilter['before']>): boolean {
  if (event.time !== cursor.time) return event.time < cursor.time;
  if (event.chain !== cursor.chain) return event.chain < cursor.chain;
  return event.seq < cursor.seq;
}
