import type { AuditEventInput, AuditRecord } from '../core/audit-chain.ts';
import type { AuditAppend } from './audit-sink.ts';

/**
 * What services use to audit a decision. `record` resolves only once the events are durably
 * committed and the chain head sealed: callers issue nothing before it resolves (PROTOCOL §9).
 */
export interface AuditLog {
  record(...inputs: AuditEventInput[]): Promise<AuditRecord[]>;
  /**
   * For events that must commit in one transaction with other writes (a revocation, its change-feed
   * row and its audit events: docs/revocation.md): `commit` appends them itself, in its own
   * transaction, with this log's chain, time and head seal; the checkpoint is written after the
   * commit. A failed commit is ERR_AUDIT_UNAVAILABLE, and nothing of it is stored.
   */
  within?<T extends { records: AuditRecord[] }>(commit: (append: AuditAppend) => Promise<T>): Promise<T>;
}
