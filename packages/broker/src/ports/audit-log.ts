import type { AuditEventInput, AuditRecord } from '../core/audit-chain.ts';

/**
 * What services use to audit a decision. `record` resolves only once the events are durably
 * committed and the chain head sealed: callers issue nothing before it resolves (PROTOCOL §9).
 */
export interface AuditLog {
  record(...inputs: AuditEventInput[]): Promise<AuditRecord[]>;
}
