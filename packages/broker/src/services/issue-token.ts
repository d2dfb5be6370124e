import { JWT_TYP } from '@mandate/sdk/protocol';
import type { AuditEventInput } from '../core/audit-chain.ts';
import { accessTokenClaims, type AccessTokenInput } from '../core/access-token.ts';
import { MandateError } from '../core/errors.ts';
import { accessTokenJti } from '../core/ids.ts';
import { effectiveStatus, inactiveReason, type Mandate, type MandateStatus } from '../core/mandate.ts';
import type { Credential } from '../ports/mandates.ts';
import type { LoopDeps, AttestationSummary } from './loop-deps.ts';
import { createStatusListService, type StatusReference } from './status-list.ts';
import { replayError, type HeldIds } from '../proof/single-use.ts';

/** A mandate may still yield a token in these states (`exhausted`: the use just taken was the last). */
const LIVE: MandateStatus[] = ['active', 'exhausted'];

export interface IssueInput {
  mandate: Mandate | null;
  agentId: string;
  subject: string;
  audience: string;
  jkt: string;
  attestation: AttestationSummary;
  autonomousActions?: string[];
  requestId: string;
  /** Events committed in the same audit record as `token.issued` (e.g. `mandate.activated`). */
  precedingEvents?: AuditEventInput[];
  /** A narrower task than the mandate's, when the agent asked for one. */
  task?: Mandate['task'];
  /** The request's single-use ids: recorded by the token's commit, a replay found there refused. */
  held?: HeldIds;
}

export interface IssuedToken {
  accessToken: string;
  expiresIn: number;
  jti: string;
  claims: Record<string, unknown>;
}

/**
 * Mints one access token: takes a use (PROTOCOL §5 `maxUses`, atomically, before signing),
 * records the credential, commits the `token.issued` audit event, and only then signs.
 */
export function createTokenIssuer(deps: LoopDeps) {
  const { store, clock, config } = deps;
  const statusLists = createStatusListService(deps);

  /** The feed does not carry a mandate used up, so this process's copy of it in memory is forgotten here (read-cache.ts). */
  const exhaust = async (mandate: Mandate, requestId: string) => {
    const ended = await store.mandates.transition(mandate.id, ['approved', 'active'], { status: 'exhausted', endedAt: clock.now(), endReason: 'max_uses' });
    // Copies are keyed by grant hash: a mandate with none is never held.
    if (mandate.grantHash !== null) deps.forgetMandate?.(mandate.grantHash);
    if (ended) await deps.audit.record({ type: 'mandate.exhausted', actor: mandate.agentId, approver: mandate.approverId, mandateId: mandate.id, requestId });
  };

  /** Returns the uses left after this one (null when the mandate has no `maxUses`). */
  const takeUse = async (mandate: Mandate, requestId: string): Promise<number | null> => {
    if (mandate.task.constraints.maxUses === undefined) return null;
    const left = await store.counters.take(mandate.id);
    if (left !== null) return left;
    await exhaust(mandate, requestId);
    throw new MandateError('ERR_MINT_MANDATE_INACTIVE', 'the mandate has no uses left', { mandate_error: 'mandate_exhausted' });
  };

  /**
   * A use taken for a token that is not minted goes back: the commit failed, or it refused the
   * token (`refused`: the agent or mandate no longer live, the approver disabled). Refused requests
   * must not exhaust a mandate that may stand again (a suspension can be resumed); one that has
   * ended does not mind (the cascade to a disabled approver's mandates revokes exhausted ones too).
   */
  const givesUseBack = (error: unknown, refused: boolean) => refused || (error instanceof MandateError && error.code === 'ERR_AUDIT_UNAVAILABLE');

  /**
   * The commit found the agent or the mandate no longer live: ended while the token was being
   * minted, or before the request on a replica whose copy in memory had not heard of it yet
   * (services/read-cache.ts). The refusal names what the store holds now, as the earlier checks do.
   */
  const notLive = async (credential: Credential): Promise<never> => {
    const agent = await store.agents.get(credential.agentId);
    if (agent?.status !== 'active') throw new MandateError('ERR_CLIENT_INACTIVE', `the agent is ${agent?.status ?? 'gone'}`);
    if (credential.mandateId === null) throw new MandateError('ERR_CLIENT_INACTIVE', 'the agent was suspended or retired while the token was being minted');
    const mandate = await store.mandates.get(credential.mandateId);
    const status = mandate ? effectiveStatus(mandate, clock.now()) : null;
    if (status !== null && !LIVE.includes(status)) throw new MandateError('ERR_MINT_MANDATE_INACTIVE', `the mandate is ${status}`, { mandate_error: inactiveReason(status) });
    throw new MandateError('ERR_MINT_MANDATE_INACTIVE', 'the mandate ended while the token was being minted', { mandate_error: 'mandate_not_active' });
  };

  /**
   * One transaction (docs/audit.md "One commit per token"): the live check (agent, mandate and
   * approver), the status-list slot, the credential and the audit events commit together. A taken slot (a random index collided)
   * stores nothing and the next candidate is tried.
   */
  const commit = async (credential: Credential, approverId: string | null, exp: number, events: AuditEventInput[], held: HeldIds | undefined, attempt: { refused: boolean }): Promise<StatusReference> => {
    const { commitIssue } = store.credentials;
    const { within } = deps.audit;
    if (!commitIssue || !within) throw new Error('minting needs a store and an audit log that commit a token in one transaction');
    for await (const slot of statusLists.candidates(credential.jti, exp)) {
      const write = { credential, live: LIVE, approverId, slot, singleUse: held?.pending() ?? [], now: clock.now() };
      const { outcome, replayed } = await within((append) => commitIssue(write, append, events));
      held?.recorded();
      if (replayed) throw replayError(replayed);
      if (outcome === 'issued') return statusLists.reference(slot);
      if (outcome === 'not_live' || outcome === 'approver_disabled') {
        // Refused: any copy in memory of what the request read may be stale (read-cache.ts).
        attempt.refused = true;
        deps.forgetReads?.();
      }
      if (outcome === 'not_live') await notLive(credential);
      if (outcome === 'approver_disabled') throw new MandateError('ERR_MINT_MANDATE_INACTIVE', 'the approver is disabled', { mandate_error: 'approver_disabled' });
    }
    throw new Error('unreachable: status-list candidates never end');
  };

  const lifetime = (input: IssueInput, nowSeconds: number) => {
    const caps = [nowSeconds + Math.floor(config.tokens.accessTokenTtl / 1000), input.attestation.exp];
    if (input.mandate) caps.push((input.task ?? input.mandate.task).constraints.notAfter);
    return Math.min(...caps);
  };

  return async function issueAccessToken(input: IssueInput): Promise<IssuedToken> {
    // A use is taken before the commit: the ids go first, so a replay cannot spend a use.
    if (input.mandate?.task.constraints.maxUses !== undefined) await input.held?.recordNow(clock.now());
    const usesLeft = input.mandate ? await takeUse(input.mandate, input.requestId) : null;
    const nowMs = clock.now();
    const nowSeconds = Math.floor(nowMs / 1000);
    const exp = lifetime(input, nowSeconds);
    const jti = accessTokenJti(nowMs, deps.random.base64url(12));
    const tokenInput: AccessTokenInput = {
      issuer: config.issuer, jti, subject: input.subject, agentId: input.agentId, audience: input.audience, jkt: input.jkt,
      iat: nowSeconds, exp, attestation: input.attestation,
      delegation: input.mandate?.approval
        ? { mandateId: input.mandate.id, task: input.task ?? input.mandate.task, approval: input.mandate.approval, taskS256: input.mandate.taskS256 }
        : null,
      ...(input.autonomousActions ? { autonomousActions: input.autonomousActions } : {}),
    };
    const claims = accessTokenClaims(tokenInput);
    // PROTOCOL §9: the event is committed before the token exists outside the broker, and with (or
    // before) its credential, so a failed commit leaves neither a token nor a credential behind.
    const events: AuditEventInput[] = [...(input.precedingEvents ?? []), {
      type: 'token.issued', actor: input.agentId, approver: input.mandate?.approverId ?? null, mandateId: input.mandate?.id ?? null,
      jti, evidenceDigest: input.attestation.evidenceDigest, requestId: input.requestId,
      data: {
        audience: input.audience, exp, jkt: input.jkt, attestation: input.attestation.id, autonomous: input.mandate === null,
        ...(input.mandate?.hop ? { parent_mandate_id: input.mandate.hop.parentId } : {}),
      },
    }];
    const credential: Credential = {
      jti, mandateId: input.mandate?.id ?? null, agentId: input.agentId, subject: input.subject, audience: input.audience,
      jkt: input.jkt, issuedAt: nowSeconds * 1000, expiresAt: exp * 1000, revokedAt: null,
    };
    let status: StatusReference;
    const attempt = { refused: false };
    try {
      status = await commit(credential, input.mandate?.approverId ?? null, exp, events, input.held, attempt);
    } catch (error) {
      if (usesLeft !== null && givesUseBack(error, attempt.refused)) await store.counters.release(input.mandate!.id);
      throw error;
    }
    // PROTOCOL §5: at zero the mandate is exhausted; the token just minted stays valid until `exp`.
    if (usesLeft === 0 && input.mandate) await exhaust(input.mandate, input.requestId);
    const signed = { ...claims, status: { status_list: status } };
    return { accessToken: deps.keys.sign({ typ: JWT_TYP.accessToken }, signed), expiresIn: exp - nowSeconds, jti, claims: signed };
  };
}
