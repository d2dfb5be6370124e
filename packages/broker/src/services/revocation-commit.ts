import type { AuditLog } from '../ports/audit-log.ts';
import type { RevocationEvents, RevocationOutcome, RevocationWrite } from '../ports/change-feed.ts';
import type { Store } from '../ports/store.ts';

export interface RevocationCommitDeps {
  store: Pick<Store, 'changes'>;
  audit: AuditLog;
}

/**
 * One revocation, one transaction (docs/revocation.md): the mandate or credential change, the
 * credentials' status-list bits, the change-feed row (NOTIFY on PostgreSQL) and the audit events
 * commit together or not at all. So the feed never announces a revocation that is not stored, a
 * stored one is never unaudited (PROTOCOL §9), and the push can start right after this one commit.
 * A failed commit is ERR_AUDIT_UNAVAILABLE with nothing revoked: the caller may ask again.
 */
export async function commitRevocation(deps: RevocationCommitDeps, write: RevocationWrite, events: RevocationEvents = () => []): Promise<RevocationOutcome> {
  const { changes } = deps.store;
  const { audit } = deps;
  if (!changes.commitRevocation || !audit.within) throw new Error('revocations need a store and an audit log that commit them in one transaction');
  return (await audit.within((append) => changes.commitRevocation!(write, append, events))).outcome;
}
