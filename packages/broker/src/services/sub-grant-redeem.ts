import { GRANT_PREFIX, SUB_GRANT_TOKEN_TYPE, TOKEN_TYPE } from '@mandate/sdk/protocol';
import { MandateError, type ErrorCode } from '../core/errors.ts';
import { effectiveStatus, type AgentTask, type Mandate } from '../core/mandate.ts';
import type { Agent } from '../core/model.ts';
import type { MandatePatch } from '../ports/mandates.ts';
import { mandateErrorOf, verifyPresentedAttestation } from './actor-attestation.ts';
import { brokenAncestor, PARENT_REVOKED } from './delegation-tree.ts';
import { auditRefusals, type HopTrail } from './hop-audit.ts';
import { createTokenIssuer, type IssuedToken } from './issue-token.ts';
import { approverIsActive, sha256b64url, type AttestationSummary, type LoopDeps } from './loop-deps.ts';

export interface RedeemRequest {
  /** The authenticated child agent. */
  agent: Agent;
  subjectToken: string | undefined;
  subjectTokenType: string | undefined;
  actorToken: string | undefined;
  actorTokenType: string | undefined;
  resources: string[];
  /** Thumbprint of the verified DPoP proof: the child's key, pinned to its mandate from now on. */
  jkt: string;
  requestId: string;
}

export interface Redeemed {
  token: IssuedToken;
  /** The child's own mandate grant: it renews with fresh evidence, like any mandate (PROTOCOL §5). */
  grant: string;
  task: AgentTask;
}

const reject = (code: ErrorCode, message: string, mandateError = mandateErrorOf(code)): never => {
  throw new MandateError(code, message, { mandate_error: mandateError });
};

/**
 * PROTOCOL §10, second half: the child named by `may_act.sub` redeems its sub-grant once, with
 * its own client authentication, DPoP key and a fresh attestation result, and receives the first
 * token of its mandate (`act: {sub: child, act: {sub: parent}}`) and a grant to renew it.
 */
export function createSubGrantRedeemer(deps: LoopDeps) {
  const { store, clock, random } = deps;
  const issue = createTokenIssuer(deps);

  const checkTokenTypes = (input: RedeemRequest) => {
    if (input.subjectTokenType !== SUB_GRANT_TOKEN_TYPE) reject('ERR_TOKEN_TYPE_UNSUPPORTED', `subject_token_type must be ${SUB_GRANT_TOKEN_TYPE}`);
    if (input.actorTokenType !== TOKEN_TYPE.jwt) reject('ERR_TOKEN_TYPE_UNSUPPORTED', `actor_token_type must be ${TOKEN_TYPE.jwt}`);
  };

  const load = async (input: RedeemRequest, trail: HopTrail): Promise<Mandate> => {
    const found = input.subjectToken ? await store.mandates.getBySubGrantHash(sha256b64url(input.subjectToken)) : null;
    const mandate = found ?? reject('ERR_SUB_GRANT_INVALID', 'subject_token is not a sub-grant');
    Object.assign(trail, { mandateId: mandate.id, parentMandateId: mandate.hop?.parentId, approver: mandate.approverId, child: mandate.agentId });
    if (mandate.agentId !== input.agent.id) reject('ERR_SUB_GRANT_NOT_MAY_ACT', 'the sub-grant names another agent (may_act.sub)');
    return mandate;
  };

  /** One redemption only; an expired or ended sub-grant says why. */
  const checkRedeemable = (mandate: Mandate) => {
    if (mandate.grantHash !== null) reject('ERR_SUB_GRANT_REUSED', 'the sub-grant was already redeemed');
    const status = effectiveStatus(mandate, clock.now());
    if (status === 'expired' && mandate.status === 'approved') reject('ERR_SUB_GRANT_EXPIRED', 'the sub-grant expired before it was redeemed');
    if (mandate.endReason === PARENT_REVOKED) reject('ERR_SUB_GRANT_PARENT_REVOKED', 'the sub-grant was revoked with its parent mandate');
    if (status !== 'approved') reject('ERR_MINT_MANDATE_INACTIVE', `the mandate is ${status}`, `mandate_${status}`);
  };

  const checkTarget = (input: RedeemRequest, mandate: Mandate) => {
    if (input.resources.length !== 1) throw new MandateError('ERR_MINT_TARGET', 'exactly one resource is required');
    if (input.resources[0] !== mandate.task.locations[0]) throw new MandateError('ERR_MINT_TARGET', 'resource is not the audience of this sub-grant');
  };

  const checkChain = async (mandate: Mandate) => {
    const broken = await brokenAncestor(store, clock, mandate);
    if (broken) reject('ERR_SUB_GRANT_PARENT_REVOKED', `mandate ${broken.id} above the sub-grant is ${broken.status}`);
    if (!(await approverIsActive(store, mandate.approverId))) reject('ERR_MINT_MANDATE_INACTIVE', 'the approver is disabled', 'approver_disabled');
  };

  /** The conditional update is the lock: of two concurrent redemptions, one wins. */
  const activate = async (mandate: Mandate, input: RedeemRequest, attestation: AttestationSummary, grant: string): Promise<Mandate> => {
    const pinned: MandatePatch = { status: 'active', grantHash: sha256b64url(grant), dpopJkt: input.jkt, attestationId: attestation.id, attestationDigest: attestation.evidenceDigest };
    if (!(await store.mandates.transition(mandate.id, ['approved'], pinned))) reject('ERR_SUB_GRANT_REUSED', 'the sub-grant was already redeemed');
    return { ...mandate, ...pinned } as Mandate;
  };

  const redeem = async (input: RedeemRequest, trail: HopTrail): Promise<Redeemed> => {
    checkTokenTypes(input);
    const mandate = await load(input, trail);
    checkRedeemable(mandate);
    checkTarget(input, mandate);
    const attestation = await verifyPresentedAttestation(deps, input.actorToken, { agentId: input.agent.id, jkt: input.jkt });
    await checkChain(mandate);
    const grant = `${GRANT_PREFIX.mandateGrant}${random.base64url(32)}`;
    const active = await activate(mandate, input, attestation, grant);
    try {
      const activated = {
        type: 'mandate.activated' as const, actor: input.agent.id, approver: mandate.approverId, mandateId: mandate.id, evidenceDigest: attestation.evidenceDigest,
        requestId: input.requestId, data: { parent_mandate_id: mandate.hop?.parentId ?? null, depth: mandate.hop?.depth ?? 0, attestation: attestation.id },
      };
      const token = await issue({ precedingEvents: [activated], mandate: active, agentId: input.agent.id, subject: mandate.approverId, audience: mandate.task.locations[0], jkt: input.jkt, attestation, requestId: input.requestId });
      return { token, grant, task: mandate.task };
    } catch (error) {
      // The child never received its grant: the sub-grant stays redeemable.
      await store.mandates.transition(mandate.id, ['active'], { status: 'approved', grantHash: null, dpopJkt: mandate.dpopJkt, attestationId: mandate.attestationId, attestationDigest: mandate.attestationDigest });
      throw error;
    }
  };

  return async function redeemSubGrant(input: RedeemRequest): Promise<Redeemed> {
    const trail: HopTrail = { stage: 'redeem', actor: input.agent.id, requestId: input.requestId };
    return auditRefusals(deps, trail, () => redeem(input, trail));
  };
}
