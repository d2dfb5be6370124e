import { MandateError } from '../core/errors.ts';
import { effectiveStatus, type Mandate } from '../core/mandate.ts';
import type { Agent, PublicJwk } from '../core/model.ts';
import { verifyClientAttestation, type ClientAttestationHeaders } from './actor-attestation.ts';
import type { IssuedToken } from './issue-token.ts';
import { createTokenIssuer } from './issue-token.ts';
import { approverIsActive, sha256b64url, type AttestationSummary, type LoopDeps } from './loop-deps.ts';

export interface CollectInput {
  agent: Agent;
  authReqId: string | undefined;
  /** Thumbprint and key of the verified DPoP proof. */
  jkt: string;
  jwk: PublicJwk;
  /** A fresh attestation result in the `OAuth-Client-Attestation` headers, when sent. */
  clientAttestation: ClientAttestationHeaders | undefined;
  requestId: string;
}

export interface Collected {
  token: IssuedToken;
  grant: string;
  mandate: Mandate;
}

const SLOW_DOWN_STEP_SECONDS = 5;

/** OpenID CIBA §10.1 poll with PROTOCOL §4's rules; on approval, the first token and the grant. */
export function createCollectService(deps: LoopDeps) {
  const { store, clock } = deps;
  const issue = createTokenIssuer(deps);

  // Unknown, foreign and redeemed requests are indistinguishable to the caller.
  const findOwn = async (agentId: string, authReqId: string | undefined) => {
    const mandate = authReqId ? await store.mandates.getByAuthReqIdHash(sha256b64url(authReqId)) : null;
    if (!mandate || mandate.agentId !== agentId) throw new MandateError('ERR_CIBA_INVALID_GRANT', 'unknown auth_req_id');
    return mandate;
  };

  const answerUnapproved = async (mandate: Mandate): Promise<never> => {
    const status = effectiveStatus(mandate, clock.now());
    if (status === 'pending') {
      const poll = await store.mandates.recordPoll(mandate.id, clock.now(), SLOW_DOWN_STEP_SECONDS);
      if (poll.slowDown) throw new MandateError('ERR_CIBA_SLOW_DOWN', `poll at most every ${poll.interval} s`);
      throw new MandateError('ERR_CIBA_PENDING', 'the approver has not decided yet');
    }
    if (status === 'expired' && mandate.status === 'pending') throw new MandateError('ERR_CIBA_EXPIRED', 'the request expired before a decision');
    if (status === 'expired' && mandate.status === 'approved') throw new MandateError('ERR_CIBA_EXPIRED', 'the request expired before it was collected');
    // `access_denied` is answered once; afterwards the request counts as redeemed.
    if (status === 'denied' && mandate.endedAt === null) {
      await store.mandates.transition(mandate.id, ['denied'], { endedAt: clock.now(), endReason: 'denial_delivered' });
      throw new MandateError('ERR_CIBA_DENIED', 'the approver denied the request');
    }
    throw new MandateError('ERR_CIBA_INVALID_GRANT', 'unknown auth_req_id');
  };

  const freshAttestation = async (mandate: Mandate, input: CollectInput): Promise<AttestationSummary> => {
    if (input.clientAttestation) return verifyClientAttestation(deps, input.clientAttestation, { agentId: input.agent.id, jkt: input.jkt, jwk: input.jwk });
    const stored = await store.attestations.get(mandate.attestationId);
    if (!stored || stored.expiresAt <= clock.now())
      throw new MandateError('ERR_MINT_ATTESTATION_STALE', 'the attestation from the request is stale: send a fresh one in OAuth-Client-Attestation', { mandate_error: 'attestation_stale' });
    return { id: stored.id, verdict: stored.verdict as AttestationSummary['verdict'], iat: Math.floor(stored.createdAt / 1000), exp: Math.floor(stored.expiresAt / 1000), evidenceDigest: stored.evidenceDigest, attestors: statusesOf(stored.results) };
  };

  return async function collect(input: CollectInput): Promise<Collected> {
    const mandate = await findOwn(input.agent.id, input.authReqId);
    if (mandate.status !== 'approved' || effectiveStatus(mandate, clock.now()) !== 'approved') return answerUnapproved(mandate);
    if (input.jkt !== mandate.dpopJkt) throw new MandateError('ERR_CIBA_DPOP_KEY', 'the DPoP proof is not by the key pinned at /bc-authorize');
    if (!(await approverIsActive(store, mandate.approverId))) throw new MandateError('ERR_CIBA_INVALID_GRANT', 'unknown auth_req_id');
    const attestation = await freshAttestation(mandate, input);
    const grant = `mgr_${deps.random.base64url(32)}`;
    // Redeemed exactly once: the conditional update is the lock.
    if (!(await store.mandates.transition(mandate.id, ['approved'], { status: 'active', grantHash: sha256b64url(grant) })))
      throw new MandateError('ERR_CIBA_INVALID_GRANT', 'unknown auth_req_id');
    const active = { ...mandate, status: 'active' as const };
    try {
      const activated = { type: 'mandate.activated' as const, actor: input.agent.id, approver: mandate.approverId, mandateId: mandate.id, requestId: input.requestId };
      const token = await issue({ precedingEvents: [activated], mandate: active, agentId: input.agent.id, subject: mandate.approverId, audience: mandate.task.locations[0], jkt: input.jkt, attestation, requestId: input.requestId });
      return { token, grant, mandate: active };
    } catch (error) {
      // The agent never received the grant: put the request back so a later poll can collect it.
      await store.mandates.transition(mandate.id, ['active'], { status: 'approved', grantHash: null });
      throw error;
    }
  };
}

function statusesOf(results: unknown): Record<string, { status: string }> {
  const out: Record<string, { status: string }> = {};
  for (const r of Array.isArray(results) ? results : []) {
    const { attestor, status } = r as { attestor?: unknown; status?: unknown };
    if (typeof attestor === 'string' && typeof status === 'string') out[attestor] = { status };
  }
  return out;
}
