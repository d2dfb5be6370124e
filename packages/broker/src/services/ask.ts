import { MandateError } from '../core/errors.ts';
import { formatId } from '../core/ids.ts';
import { taskDocumentContent, type AgentTask, type Mandate } from '../core/mandate.ts';
import type { Agent } from '../core/model.ts';
import { mandateErrorOf } from './actor-attestation.ts';
import { parseAgentTask } from './agent-task.ts';
import { sha256b64url, type AttestationSummary, type LoopDeps } from './loop-deps.ts';

export interface AskInput {
  agent: Agent;
  loginHint: string | undefined;
  bindingMessage: string | undefined;
  authorizationDetails: string | undefined;
  requestedExpiry: string | undefined;
  /** From a verified `DPoP` proof header, if one was sent. */
  proofJkt: string | undefined;
  /** The `dpop_jkt` parameter (RFC 9449 §10), if sent. */
  dpopJkt: string | undefined;
  attestation: string | undefined;
  requestId: string;
}

export interface AskResult {
  authReqId: string;
  expiresIn: number;
  interval: number;
  mandate: Mandate;
}

// Rendered to a human as untrusted text: printable characters only (OpenID CIBA §7.1).
const BINDING_MESSAGE = /^[\p{L}\p{N}\p{P}\p{Zs}\p{S}]+$/u;

/** PROTOCOL §4: `/bc-authorize`, one named step per rule, then the pending mandate is stored. */
export function createAskService(deps: LoopDeps) {
  const { store, config, clock } = deps;

  const checkApprover = async (agent: Agent, loginHint: string | undefined) => {
    // Unknown and not-allowed humans get the same answer, so the endpoint reveals no one.
    const human = loginHint && agent.approvers.includes(loginHint) ? await store.humans.get(loginHint) : null;
    if (!human || human.status !== 'active') throw new MandateError('ERR_ASK_UNKNOWN_USER', 'login_hint is not an approver of this agent');
    return human.id;
  };

  const checkBindingMessage = (message: string | undefined) => {
    if (message === undefined) return null;
    if (message.length === 0 || message.length > config.ciba.bindingMessageMaxLength || !BINDING_MESSAGE.test(message))
      throw new MandateError('ERR_ASK_BINDING_MESSAGE', `binding_message must be 1-${config.ciba.bindingMessageMaxLength} printable characters`);
    return message;
  };

  const pinnedKey = (proofJkt: string | undefined, dpopJkt: string | undefined) => {
    if (proofJkt && dpopJkt && proofJkt !== dpopJkt) throw new MandateError('ERR_ASK_DPOP_KEY', 'dpop_jkt does not match the DPoP proof key');
    const jkt = proofJkt ?? dpopJkt;
    if (!jkt || !/^[A-Za-z0-9_-]{43}$/.test(jkt)) throw new MandateError('ERR_ASK_DPOP_KEY', 'send a DPoP proof or a dpop_jkt parameter');
    return jkt;
  };

  const checkAttestation = async (attestation: string | undefined, agentId: string, jkt: string): Promise<AttestationSummary> => {
    if (!attestation) throw new MandateError('ERR_ASK_ATTESTATION', 'the attestation parameter is required');
    try {
      return await deps.verifyAttestation(attestation, { agentId, jkt });
    } catch (error) {
      if (error instanceof MandateError && error.code !== 'ERR_ASK_ATTESTATION') throw new MandateError('ERR_ASK_ATTESTATION', error.message, { mandate_error: mandateErrorOf(error.code) });
      throw error;
    }
  };

  const requestLifetime = (requestedExpiry: string | undefined) => {
    if (requestedExpiry === undefined) return config.ciba.defaultExpiry;
    if (!/^[1-9][0-9]{0,8}$/.test(requestedExpiry)) throw new MandateError('ERR_ASK_REQUESTED_EXPIRY', 'requested_expiry must be a positive whole number of seconds');
    return Math.min(Number(requestedExpiry) * 1000, config.ciba.maxRequestedExpiry);
  };

  const checkPendingLimit = async (agentId: string) => {
    const pending = await store.mandates.list({ agentId, status: 'pending' }, config.ciba.maxPendingPerAgent);
    if (pending.filter((m) => m.requestExpiresAt > clock.now()).length >= config.ciba.maxPendingPerAgent)
      throw new MandateError('ERR_ASK_TOO_MANY_PENDING', 'this agent has too many pending requests');
  };

  const buildMandate = (input: AskInput, approverId: string, task: AgentTask, jkt: string, summary: AttestationSummary, lifetime: number, authReqIdHash: string): Mandate => {
    const now = clock.now();
    const taskDocument = deps.hashing.canonicalize(taskDocumentContent({ agentId: input.agent.id, task, attestationDigest: summary.evidenceDigest, authReqIdHash }));
    return {
      id: formatId('mandate', deps.random.base64url(16)), agentId: input.agent.id, approverId, status: 'pending', task,
      bindingMessage: input.bindingMessage ?? null, taskDocument, taskS256: sha256b64url(taskDocument),
      attestationId: summary.id, attestationDigest: summary.evidenceDigest, dpopJkt: jkt, authReqIdHash,
      requestExpiresAt: now + lifetime, interval: config.ciba.interval, lastPolledAt: null, approval: null, decidedAt: null,
      grantHash: null, createdAt: now, endedAt: null, endReason: null,
    };
  };

  return async function ask(input: AskInput): Promise<AskResult> {
    const task = parseAgentTask(input.authorizationDetails ?? fail(), config.audiences, Math.floor(clock.now() / 1000));
    const approverId = await checkApprover(input.agent, input.loginHint);
    checkBindingMessage(input.bindingMessage);
    const jkt = pinnedKey(input.proofJkt, input.dpopJkt);
    const summary = await checkAttestation(input.attestation, input.agent.id, jkt);
    const lifetime = requestLifetime(input.requestedExpiry);
    await checkPendingLimit(input.agent.id);
    const authReqId = deps.random.base64url(32);
    const mandate = buildMandate(input, approverId, task, jkt, summary, lifetime, sha256b64url(authReqId));
    await store.mandates.insert(mandate);
    if (task.constraints.maxUses !== undefined) await store.counters.create(mandate.id, task.constraints.maxUses);
    try {
      await deps.audit.record({
        type: 'mandate.requested', actor: mandate.agentId, approver: approverId, mandateId: mandate.id,
        evidenceDigest: summary.evidenceDigest, requestId: input.requestId,
        data: { audience: task.locations[0], actions: task.actions, not_after: task.constraints.notAfter, task_s256: mandate.taskS256, attestation: summary.id },
      });
    } catch (error) {
      // Unaudited requests must never be approved: end it, so no token can come from it.
      await store.mandates.transition(mandate.id, ['pending'], { status: 'revoked', endedAt: clock.now(), endReason: 'audit_unavailable' });
      throw error;
    }
    await deps.notifier.notify(approverId, 'mandate.requested', { mandate_id: mandate.id, agent_id: mandate.agentId });
    return { authReqId, expiresIn: Math.round(lifetime / 1000), interval: mandate.interval, mandate };
  };
}

function fail(): never {
  throw new MandateError('ERR_ASK_AUTHORIZATION_DETAILS', 'authorization_details is required');
}

