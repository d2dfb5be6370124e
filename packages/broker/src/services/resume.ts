import type { AuthenticationResponseJSON } from '@simplewebauthn/server';
import { MandateError } from '../core/errors.ts';
import type { Mandate } from '../core/mandate.ts';
import type { AuditLog } from '../ports/audit-log.ts';
import type { Clock } from '../ports/clock.ts';
import type { Store } from '../ports/store.ts';
import { queryAudit } from './audit-query.ts';
import type { ConsoleSession } from './console-auth.ts';
import type { DecisionService } from './decide.ts';
import type { DecisionCeremony } from './passkey-approval.ts';
import type { PasskeyService } from './passkeys.ts';
import { decisionChallenge, type WebauthnNonces } from './webauthn-challenge.ts';

export interface ResumeDeps {
  store: Store;
  audit: AuditLog;
  clock: Clock;
  decisions: DecisionService;
  passkeys: PasskeyService;
  nonces: WebauthnNonces;
  /** `mandates.suspendedRevokeAfter` (ms). */
  revokeAfter: number;
  origin: string;
  rpId: string;
}

const SWEEP_LIMIT = 1000;

/**
 * PROTOCOL §8: a suspended mandate can be resumed only by its original approver, with a fresh
 * passkey assertion over the mandate's task digest, and only while the agent's latest attestation
 * is affirming and fresh; otherwise a sweep revokes it once `revokeAfter` has passed.
 */
export function createResumeService(deps: ResumeDeps) {
  const { store, clock } = deps;
  const binding = (session: ConsoleSession, id: string) => `${session.idHash}\0${id}`;

  const resumable = async (session: ConsoleSession, id: string): Promise<Mandate> => {
    const mandate = await deps.decisions.get(id);
    if (mandate.status !== 'suspended') throw new MandateError('ERR_MANDATE_STATE', `the mandate is ${mandate.status}`);
    if (mandate.approval?.approvedBy !== session.human.id) throw new MandateError('ERR_RESUME_NOT_APPROVER', 'only the human who approved this mandate may resume it');
    const agent = await store.agents.get(mandate.agentId);
    if (agent?.status !== 'active') throw new MandateError('ERR_AGENT_STATE', `agent ${mandate.agentId} is ${agent?.status ?? 'unknown'}`);
    const [latest] = await store.attestations.listByAgent(mandate.agentId, 1);
    if (!latest || latest.verdict !== 'affirming' || latest.expiresAt <= clock.now())
      throw new MandateError('ERR_RESUME_ATTESTATION', 'the agent\'s latest attestation must be affirming and fresh: have it attest again');
    return mandate;
  };

  return {
    resumable,

    async options(session: ConsoleSession, id: string): Promise<DecisionCeremony> {
      const mandate = await resumable(session, id);
      const nonce = deps.nonces.issue('resume', binding(session, id));
      const challenge = decisionChallenge(mandate.taskS256, id, 'resume', nonce);
      return { nonce, taskS256: mandate.taskS256, options: await deps.passkeys.decisionOptions(session.human.id, challenge) };
    },

    async resume(session: ConsoleSession, id: string, nonce: string, response: AuthenticationResponseJSON, requestId: string): Promise<Mandate> {
      const mandate = await resumable(session, id);
      await deps.nonces.spend(nonce, 'resume', binding(session, id));
      const challenge = decisionChallenge(mandate.taskS256, id, 'resume', nonce);
      const passkey = await deps.passkeys.verifyAssertion(response, challenge, session.human.id);
      const to = mandate.grantHash === null ? 'approved' : 'active';
      if (!(await store.mandates.transition(id, ['suspended'], { status: to, endReason: null }))) throw new MandateError('ERR_MANDATE_STATE', 'the mandate changed meanwhile');
      const [latest] = await store.attestations.listByAgent(mandate.agentId, 1);
      // No token may flow from an unaudited resumption: if the audit commit fails, the mandate is suspended again.
      await deps.audit.record({
        type: 'mandate.resumed', actor: session.human.id, approver: mandate.approverId, mandateId: id, requestId, evidenceDigest: latest?.evidenceDigest ?? null,
        data: {
          method: 'passkey', credential_id: passkey.credentialId, attestation_id: latest?.id ?? null, status: to, task_s256: mandate.taskS256,
          nonce, challenge, origin: deps.origin, rp_id: deps.rpId,
          client_data_json: response.response.clientDataJSON, authenticator_data: response.response.authenticatorData, signature: response.response.signature,
        },
      }).catch(async (error: unknown) => {
        await store.mandates.transition(id, [to], { status: 'suspended', endReason: mandate.endReason });
        throw error;
      });
      return (await store.mandates.get(id))!;
    },

    /** Revokes mandates suspended for longer than `revokeAfter` (since their last `mandate.suspended` event); returns how many. */
    async sweep(requestId: string): Promise<number> {
      const now = clock.now();
      const due: Mandate[] = [];
      for (const mandate of await store.mandates.list({ status: 'suspended' }, SWEEP_LIMIT)) {
        // Newest first: a busy mandate's latest suspension may lie past any oldest-first page (a resume then a second suspension).
        const [latest] = (await queryAudit(store.audit, { type: 'mandate.suspended', mandateId: mandate.id }, 1)).events;
        const since = latest?.time ?? 0;
        if (since > 0 && since + deps.revokeAfter <= now) due.push(mandate);
      }
      return due.length === 0 ? 0 : deps.decisions.revokeAll(due, 'suspension_expired', { actor: 'system', requestId });
    },
  };
}

export type ResumeService = ReturnType<typeof createResumeService>;
