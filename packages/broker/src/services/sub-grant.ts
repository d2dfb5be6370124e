import { GRANT_PREFIX, TOKEN_TYPE } from '@mandate/sdk/protocol';
import { clip } from '../core/clip.ts';
import { MandateError, type ErrorCode } from '../core/errors.ts';
import { formatId, isIdOf } from '../core/ids.ts';
import { effectiveStatus, USABLE_STATUSES, widening, type AgentTask, type Approval, type Mandate } from '../core/mandate.ts';
import type { Agent } from '../core/model.ts';
import type { CarvedUses } from '../ports/mandates.ts';
import { mandateErrorOf } from './actor-attestation.ts';
import { parseAgentTask } from './agent-task.ts';
import { brokenAncestor, PARENT_REVOKED } from './delegation-tree.ts';
import { auditRefusals, HOP_EVENT, type HopTrail } from './hop-audit.ts';
import { approverIsActive, sha256b64url, type LoopDeps } from './loop-deps.ts';
import { readParentToken, type ParentToken } from './parent-token.ts';

export interface SubGrantRequest {
  /** The authenticated parent agent. */
  agent: Agent;
  subjectToken: string | undefined;
  subjectTokenType: string | undefined;
  /** `may_act_sub`: the registered child agent that alone may redeem the sub-grant. */
  mayActSub: string | undefined;
  resources: string[];
  authorizationDetails: string | undefined;
  /** Thumbprint of the verified DPoP proof: must be the parent token's `cnf.jkt`. */
  jkt: string;
  requestId: string;
}

export interface IssuedSubGrant {
  subGrant: string;
  expiresIn: number;
  task: AgentTask;
  mandate: Mandate;
}

/** Which rule a wider request breaks, by the member `widening` names (PROTOCOL §10). */
const WIDENING_CODE: Record<string, ErrorCode> = {
  audience: 'ERR_SUB_GRANT_WIDENING_AUDIENCE',
  actions: 'ERR_SUB_GRANT_WIDENING_ACTIONS',
  notAfter: 'ERR_SUB_GRANT_WIDENING_EXPIRY',
  maxUses: 'ERR_SUB_GRANT_WIDENING_MAX_USES',
};

const reject = (code: ErrorCode, message: string): never => {
  throw new MandateError(code, message, { mandate_error: mandateErrorOf(code) });
};

/**
 * PROTOCOL §10, first half: a parent exchanges its own access token (proof by its `cnf` key) for
 * a one-time sub-grant that only the named child may redeem, no wider than the parent's token.
 * The sub-grant is a mandate of the child, approved by carrying the human's approval through.
 */
export function createSubGrantIssuer(deps: LoopDeps) {
  const { store, clock, config, random } = deps;

  const loadParent = async (input: SubGrantRequest, trail: HopTrail): Promise<{ token: ParentToken; mandate: Mandate }> => {
    if (input.subjectTokenType !== TOKEN_TYPE.accessToken) reject('ERR_TOKEN_TYPE_UNSUPPORTED', `a sub-grant is asked for with subject_token_type ${TOKEN_TYPE.accessToken}`);
    const token = readParentToken(deps, input.subjectToken);
    trail.mandateId = token.mandateId;
    if (token.clientId !== input.agent.id) reject('ERR_MINT_CLIENT_MISMATCH', 'the parent token was issued to another agent');
    if (token.jkt !== input.jkt) reject('ERR_SUB_GRANT_DPOP_KEY', 'the DPoP proof is not by the key the parent token is bound to');
    const credential = await store.credentials.get(token.jti);
    if (!credential || credential.revokedAt !== null) reject('ERR_SUB_GRANT_PARENT_REVOKED', 'the parent access token is revoked');
    const mandate = (await store.mandates.get(token.mandateId)) ?? reject('ERR_SUB_GRANT_PARENT_REVOKED', 'the parent mandate is gone');
    trail.approver = mandate.approverId;
    await checkUsable(mandate);
    return { token, mandate };
  };

  /** The parent mandate and every one above it still stand, and so does the human who approved. */
  const checkUsable = async (mandate: Mandate) => {
    const status = effectiveStatus(mandate, clock.now());
    if (!USABLE_STATUSES.includes(status)) reject('ERR_SUB_GRANT_PARENT_REVOKED', `the parent mandate is ${status}`);
    const broken = await brokenAncestor(store, clock, mandate);
    if (broken) reject('ERR_SUB_GRANT_PARENT_REVOKED', `mandate ${broken.id} above the parent is ${broken.status}`);
    if (!(await approverIsActive(store, mandate.approverId))) reject('ERR_SUB_GRANT_PARENT_REVOKED', 'the approver is disabled');
  };

  const loadChild = async (input: SubGrantRequest, parent: Mandate, trail: HopTrail): Promise<Agent> => {
    if (!input.mayActSub) throw new MandateError('ERR_REQUEST_MISSING_PARAMETER', 'may_act_sub is required', { parameter: 'may_act_sub' });
    trail.child = clip(input.mayActSub);
    // PROTOCOL §1: ids are namespaced, so a human id (or anything else) never names an agent.
    const found = isIdOf('agent', input.mayActSub) ? await store.agents.get(input.mayActSub) : null;
    const child = found ?? reject('ERR_SUB_GRANT_CHILD_UNKNOWN', 'may_act_sub is not a registered agent');
    if (child.status !== 'active') reject('ERR_SUB_GRANT_CHILD_INACTIVE', `the child agent is ${child.status}`);
    // A chain that returns to one of its agents would let an agent widen its own depth budget.
    if ([parent.agentId, ...(parent.approval?.delegatedBy ?? [])].includes(child.id)) reject('ERR_SUB_GRANT_CHILD_IN_CHAIN', 'the child already acts in this delegation chain');
    const depth = (parent.hop?.depth ?? 0) + 1;
    if (depth > config.delegation.maxDepth) reject('ERR_SUB_GRANT_DEPTH', `delegation.maxDepth is ${config.delegation.maxDepth}`);
    return child;
  };

  /** The parent token's task, or the narrower one asked for: every member equal or narrower. */
  const narrowedTask = (input: SubGrantRequest, bound: AgentTask): AgentTask => {
    if (input.resources.length > 1) reject('ERR_SUB_GRANT_WIDENING_AUDIENCE', 'a sub-grant has one audience: the parent\'s');
    if (input.resources.length === 1 && input.resources[0] !== bound.locations[0]) reject('ERR_SUB_GRANT_WIDENING_AUDIENCE', 'resource is not the audience of the parent token');
    if (input.authorizationDetails === undefined) return bound;
    const requested = parseAgentTask(input.authorizationDetails, config.audiences, Math.floor(clock.now() / 1000));
    const widened = widening(bound, requested);
    if (widened) reject(WIDENING_CODE[widened] ?? 'ERR_SUB_GRANT_WIDENING_TASK', `authorization_details widen the parent token (${widened})`);
    return requested;
  };

  const buildChild = (parent: Mandate, token: ParentToken, child: Agent, task: AgentTask, subGrant: string): Mandate => {
    const now = clock.now();
    const approval: Approval = { ...parent.approval!, delegatedBy: [parent.agentId, ...(parent.approval!.delegatedBy ?? [])] };
    return {
      id: formatId('mandate', random.base64url(16)), agentId: child.id, approverId: parent.approverId, status: 'approved', task,
      // The approval covers the task document the human saw: both travel down unchanged.
      bindingMessage: null, taskDocument: parent.taskDocument, taskS256: parent.taskS256,
      attestationId: token.attestationId ?? parent.attestationId, attestationDigest: token.evidenceDigest ?? parent.attestationDigest,
      // The child's key and attestation are pinned when it redeems; no CIBA poll can reach this request.
      dpopJkt: '', authReqIdHash: sha256b64url(random.base64url(32)),
      requestExpiresAt: Math.min(now + config.delegation.subGrantTtl, task.constraints.notAfter * 1000),
      interval: config.ciba.interval, lastPolledAt: null, approval, decidedAt: now, grantHash: null, createdAt: now, endedAt: null, endReason: null,
      hop: { parentId: parent.id, depth: (parent.hop?.depth ?? 0) + 1, subGrantHash: sha256b64url(subGrant) },
    };
  };

  /** PROTOCOL §5 `maxUses`: a child's uses come out of the parent's remaining ones, atomically. */
  const storeChild = async (child: Mandate, parent: Mandate) => {
    const count = child.task.constraints.maxUses;
    const uses: CarvedUses | null = count === undefined ? null : { count, carveFrom: parent.task.constraints.maxUses === undefined ? null : parent.id };
    if (await store.mandates.insertChild(child, uses)) return;
    const left = await store.counters.remaining(parent.id);
    reject('ERR_SUB_GRANT_WIDENING_MAX_USES', `maxUses ${count} exceeds the ${left ?? 0} uses the parent has left`);
  };

  const end = (child: Mandate, reason: string) => store.mandates.transition(child.id, ['approved'], { status: 'revoked', endedAt: clock.now(), endReason: reason });

  /** Audited before the sub-grant leaves (PROTOCOL §9); an unaudited sub-grant is ended at once. */
  const auditIssued = async (child: Mandate, parent: Mandate, token: ParentToken, requestId: string) => {
    try {
      await deps.audit.record({
        type: HOP_EVENT.delegated, actor: parent.agentId, approver: parent.approverId, mandateId: child.id, evidenceDigest: token.evidenceDigest, requestId,
        data: {
          parent_mandate_id: parent.id, child_agent: child.agentId, depth: child.hop!.depth, parent_jti: token.jti, audience: child.task.locations[0],
          actions: child.task.actions, not_after: child.task.constraints.notAfter, max_uses: child.task.constraints.maxUses ?? null, sub_grant_expires_at: child.requestExpiresAt,
        },
      });
    } catch (error) {
      await end(child, 'audit_unavailable');
      throw error;
    }
  };

  const issue = async (input: SubGrantRequest, trail: HopTrail): Promise<IssuedSubGrant> => {
    const { token, mandate: parent } = await loadParent(input, trail);
    const childAgent = await loadChild(input, parent, trail);
    const task = narrowedTask(input, token.task);
    const subGrant = `${GRANT_PREFIX.subGrant}${random.base64url(32)}`;
    const child = buildChild(parent, token, childAgent, task, subGrant);
    await storeChild(child, parent);
    // A revocation of the parent that landed meanwhile walked the tree before this child existed.
    if (!(await store.mandates.transition(parent.id, USABLE_STATUSES, {}))) {
      await end(child, PARENT_REVOKED);
      reject('ERR_SUB_GRANT_PARENT_REVOKED', 'the parent mandate ended while the sub-grant was being issued');
    }
    await auditIssued(child, parent, token, input.requestId);
    return { subGrant, expiresIn: Math.max(1, Math.round((child.requestExpiresAt - clock.now()) / 1000)), task, mandate: child };
  };

  return async function issueSubGrant(input: SubGrantRequest): Promise<IssuedSubGrant> {
    const trail: HopTrail = { stage: 'issue', actor: input.agent.id, requestId: input.requestId };
    return auditRefusals(deps, trail, () => issue(input, trail));
  };
}

