import { MandateError } from '../core/errors.ts';
import type { AuditLog } from '../ports/audit-log.ts';
import type { Clock } from '../ports/clock.ts';
import type { Credential } from '../ports/mandates.ts';
import type { Store } from '../ports/store.ts';
import type { ActionContext } from './action-context.ts';
import { commitRevocation } from './revocation-commit.ts';

export interface CredentialRevocationDeps {
  store: Pick<Store, 'credentials' | 'changes'>;
  audit: AuditLog;
  clock: Clock;
}

/**
 * A human revokes one access token (the console's "Revoke" on a credential row): the mandate and
 * its other tokens stay. Resource servers learn it from introspection (RFC 7662 `active: false`)
 * and the change feed, the same way as a token revoked by its agent (RFC 7009).
 */
export async function revokeCredentialAsHuman(deps: CredentialRevocationDeps, jti: string, ctx: ActionContext): Promise<Credential> {
  const credential = await deps.store.credentials.get(jti);
  if (!credential) throw new MandateError('ERR_CREDENTIAL_NOT_FOUND', `no credential ${jti}`);
  const now = deps.clock.now();
  // Conditional in the store: of two concurrent revocations exactly one records the event, in the
  // same transaction as the revocation and its change-feed row (docs/revocation.md).
  const revoked = credential.revokedAt === null && (await commitRevocation(deps, { credentials: { jti }, change: { topic: 'token.revoked', key: jti, at: now } },
    () => [{ type: 'token.revoked', actor: ctx.actor, mandateId: credential.mandateId, jti, requestId: ctx.requestId, data: { by: 'human' } }])).applied;
  if (!revoked) throw new MandateError('ERR_CREDENTIAL_REVOKED', 'the credential is already revoked');
  return { ...credential, revokedAt: now };
}
