import { SUB_GRANT_TOKEN_TYPE, TOKEN_TYPE } from '@mandate/sdk/protocol';
import { MandateError, type ErrorCode } from '../core/errors.ts';
import { effectiveStatus, inactiveReason, widening, type AgentTask, type Mandate } from '../core/mandate.ts';
import type { Agent } from '../core/model.ts';
import { parseAgentTask } from './agent-task.ts';
import { verifyPresentedAttestation } from './actor-attestation.ts';
import { brokenAncestor } from './delegation-tree.ts';
import { createTokenIssuer, type IssuedToken } from './issue-token.ts';
import { sha256b64url, type LoopDeps } from './loop-deps.ts';
import { createSubGrantRedeemer } from './sub-grant-redeem.ts';
import type { HeldIds } from '../proof/single-use.ts';
import { createSubGrantIssuer, type IssuedSubGrant } from './sub-grant.ts';

export interface MintInput {
  agent: Agent;
  subjectToken: string | undefined;
  subjectTokenType: string | undefined;
  actorToken: string | undefined;
  actorTokenType: string | undefined;
  resources: string[];
  authorizationDetails: string | undefined;
  /** RFC 8693 `requested_token_type`: the sub-grant type asks for a sub-grant (PROTOCOL §10). */
  requestedTokenType: string | undefined;
  /** The child agent a sub-grant is for (`may_act_sub`). */
  mayActSub: string | undefined;
  /** Thumbprint of the verified DPoP proof: the new token is bound to it. */
  jkt: string;
  requestId: string;
  /** The request's single-use ids, recorded by the token's commit (proof/single-use.ts). */
  held?: HeldIds;
}

export interface Minted {
  token: IssuedToken;
  task: AgentTask;
  /** Only when a child redeemed a sub-grant: the grant of its new mandate. */
  grant?: string;
}

/** What a token exchange yields: an access token, or a sub-grant for a child agent. */
export type Exchanged = ({ kind: 'access_token' } & Minted) | { kind: 'sub_grant'; subGrant: IssuedSubGrant };

export interface MintOptions {
  /**
   * Where the grant's mandate is read; the store by default. Its token's commit checks the mandate
   * (and its agent and approver) again under a lock, so a copy kept in memory
   * (services/read-cache.ts) never issues a token under a mandate that has ended.
   */
  mandateByGrantHash?: (hash: string) => Promise<Mandate | null>;
}

/** PROTOCOL §5: token exchange of the mandate grant plus a fresh attestation result. */
export function createMintService(deps: LoopDeps, options: MintOptions = {}) {
  const { store, clock, config } = deps;
  const mandateByGrantHash = options.mandateByGrantHash ?? ((hash: string) => store.mandates.getByGrantHash(hash));
  const issue = createTokenIssuer(deps);
  const reject = (code: ErrorCode, message: string, mandateError: string): never => {
    throw new MandateError(code, message, { mandate_error: mandateError });
  };

  const checkTokenTypes = (input: MintInput) => {
    if (input.subjectTokenType !== TOKEN_TYPE.refreshToken) throw new MandateError('ERR_TOKEN_TYPE_UNSUPPORTED', `subject_token_type must be ${TOKEN_TYPE.refreshToken}`);
    if (input.actorTokenType !== TOKEN_TYPE.jwt) throw new MandateError('ERR_TOKEN_TYPE_UNSUPPORTED', `actor_token_type must be ${TOKEN_TYPE.jwt}`);
  };

  const loadMandate = async (input: MintInput) => {
    if (!input.subjectToken) return reject('ERR_MINT_SUBJECT_TOKEN', 'subject_token is required', 'grant_missing');
    const mandate = await mandateByGrantHash(sha256b64url(input.subjectToken));
    if (!mandate) return reject('ERR_MINT_SUBJECT_TOKEN', 'subject_token is not a mandate grant', 'grant_invalid');
    if (mandate.agentId !== input.agent.id) return reject('ERR_MINT_CLIENT_MISMATCH', 'the mandate belongs to another agent', 'client_mismatch');
    return mandate;
  };

  const checkTarget = (input: MintInput, mandate: Mandate) => {
    if (input.resources.length !== 1) throw new MandateError('ERR_MINT_TARGET', 'exactly one resource is required');
    if (input.resources[0] !== mandate.task.locations[0]) throw new MandateError('ERR_MINT_TARGET', 'resource is not the audience of this mandate');
  };

  /** The approver is checked by the token's commit, under a lock (issue-token.ts): no read of it here. */
  const checkActive = async (mandate: Mandate) => {
    const status = effectiveStatus(mandate, clock.now());
    if (status !== 'active') reject('ERR_MINT_MANDATE_INACTIVE', `the mandate is ${status}`, inactiveReason(status));
    // PROTOCOL §10: a sub-grant's mandate renews only while every mandate above it stands.
    const broken = mandate.hop ? await brokenAncestor(store, clock, mandate) : null;
    if (broken) reject('ERR_MINT_MANDATE_INACTIVE', `mandate ${broken.id} above this one is ${broken.status}`, 'parent_inactive');
  };

  const narrowedTask = (input: MintInput, mandate: Mandate): AgentTask => {
    if (input.authorizationDetails === undefined) return mandate.task;
    const requested = parseAgentTask(input.authorizationDetails, config.audiences, Math.floor(clock.now() / 1000), 'ERR_MINT_WIDENING');
    const widened = widening(mandate.task, requested);
    if (widened) reject('ERR_MINT_WIDENING', `authorization_details widen the mandate (${widened})`, `widening_${widened.toLowerCase()}`);
    return requested;
  };

  const mintFromGrant = async (input: MintInput): Promise<Minted> => {
    checkTokenTypes(input);
    const mandate = await loadMandate(input);
    checkTarget(input, mandate);
    const attestation = await verifyPresentedAttestation(deps, input.actorToken, { agentId: input.agent.id, jkt: input.jkt });
    await checkActive(mandate);
    const task = narrowedTask(input, mandate);
    const token = await issue({ mandate, task, agentId: input.agent.id, subject: mandate.approverId, audience: mandate.task.locations[0], jkt: input.jkt, attestation, requestId: input.requestId, ...(input.held ? { held: input.held } : {}) });
    return { token, task };
  };

  const issueSubGrant = createSubGrantIssuer(deps);
  const redeemSubGrant = createSubGrantRedeemer(deps);

  /**
   * RFC 8693 token exchange, by what is exchanged: a mandate grant for an access token (PROTOCOL
   * §5), a parent's access token for a sub-grant, or a sub-grant for the child's first token (§10).
   */
  return async function exchange(input: MintInput): Promise<Exchanged> {
    // Only the grant's own mint hands the request's ids to its token's commit; a sub-grant's
    // issuance or redemption has effects of its own first, so the ids are recorded before them.
    if (input.requestedTokenType === SUB_GRANT_TOKEN_TYPE || input.subjectTokenType === SUB_GRANT_TOKEN_TYPE) await input.held?.recordNow(clock.now());
    if (input.requestedTokenType === SUB_GRANT_TOKEN_TYPE) return { kind: 'sub_grant', subGrant: await issueSubGrant(input) };
    if (input.subjectTokenType === SUB_GRANT_TOKEN_TYPE) return { kind: 'access_token', ...(await redeemSubGrant(input)) };
    if (input.requestedTokenType !== undefined && input.requestedTokenType !== TOKEN_TYPE.accessToken)
      throw new MandateError('ERR_TOKEN_TYPE_UNSUPPORTED', `requested_token_type must be ${TOKEN_TYPE.accessToken} or ${SUB_GRANT_TOKEN_TYPE}`);
    return { kind: 'access_token', ...(await mintFromGrant(input)) };
  };
}
