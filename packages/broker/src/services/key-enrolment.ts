import { createHmac, timingSafeEqual } from 'node:crypto';
import type { AuditEventInput } from '../core/audit-chain.ts';
import { isMandateError, MandateError } from '../core/errors.ts';
import type { Agent } from '../core/model.ts';
import type { AttestationKeyRepository } from '../ports/attestation-keys.ts';
import type { AuditLog } from '../ports/audit-log.ts';
import type { Clock } from '../ports/clock.ts';
import type { KeyEnrolment, PendingKeyEnrolment } from '../ports/key-enrolment.ts';
import type { ReplayCache } from '../ports/replay-cache.ts';

export interface KeyEnrolmentDeps {
  /** Null when the tpm-quote attestor (with `ekCaFile`) is not enabled. */
  enrolment: KeyEnrolment | null;
  repository: AttestationKeyRepository;
  /** HMAC key (≥ 32 bytes) shared by every replica: any replica accepts any sealed enrolment. */
  key: Buffer;
  replay: ReplayCache;
  audit: AuditLog;
  clock: Clock;
}

export interface BeginInput {
  agent: Agent;
  akPublic: string;
  ekPublic: string;
  ekCertificate: string;
  requestId: string;
}

export interface ActivateInput {
  agent: Agent;
  enrolment: string;
  secret: string;
  requestId: string;
}

/** Separates these MACs from any other use of a shared key. */
const LABEL = 'mandate/tpm-enrolment/v1\0';

/**
 * TPM attestation-key enrolment over HTTP, in two steps (attestors/tpm-quote/README.md):
 * `begin` answers the credential to activate and the pending enrolment sealed with an HMAC, so
 * nothing is stored between the steps and any replica can finish it; `activate` opens the seal,
 * checks it is this agent's and unused, compares the answer and registers the AK. Every outcome is
 * audited; a registration whose audit record cannot be committed is undone.
 *
 * @example
 * const { enrolment, credential } = await service.begin({ agent, akPublic, ekPublic, ekCertificate, requestId });
 * const { akName } = await service.activate({ agent, enrolment, secret, requestId });
 */
export function createKeyEnrolmentService(deps: KeyEnrolmentDeps) {
  if (deps.key.length < 32) throw new RangeError('the enrolment key must be at least 32 bytes');
  const mac = (payload: string) => createHmac('sha256', deps.key).update(LABEL).update(payload).digest();

  const enabled = (): KeyEnrolment => {
    if (deps.enrolment) return deps.enrolment;
    throw new MandateError('ERR_ATTESTOR_UNKNOWN', 'TPM key enrolment needs the tpm-quote attestor with ekCaFile');
  };

  const rejected = async (agent: Agent, requestId: string, error: unknown): Promise<never> => {
    if (isMandateError(error)) await deps.audit.record({ type: 'attestation_key.rejected', actor: agent.id, requestId, data: { reason: error.code } });
    throw error;
  };

  const seal = (pending: PendingKeyEnrolment) => {
    const payload = Buffer.from(JSON.stringify(pending)).toString('base64url');
    return `${payload}.${mac(payload).toString('base64url')}`;
  };

  const open = (sealed: string, agent: Agent): PendingKeyEnrolment => {
    const [payload = '', tag = '', extra] = sealed.split('.');
    const expected = mac(payload);
    const given = Buffer.from(tag, 'base64url');
    if (extra !== undefined || given.length !== expected.length || !timingSafeEqual(given, expected))
      throw new MandateError('ERR_KEY_ENROLMENT_INVALID', 'the enrolment was not issued by this broker');
    const pending = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as PendingKeyEnrolment;
    if (pending.agentId !== agent.id) throw new MandateError('ERR_KEY_ENROLMENT_INVALID', 'the enrolment belongs to another agent');
    return pending;
  };

  return {
    async begin(input: BeginInput) {
      const { agent, requestId } = input;
      const started = await enabled()
        .begin({ agentId: agent.id, akPublic: input.akPublic, ekPublic: input.ekPublic, ekCertificate: input.ekCertificate })
        .catch((error: unknown) => rejected(agent, requestId, error));
      const { challenge, pending } = started;
      const expiresIn = Math.max(0, Math.floor((challenge.expiresAt - deps.clock.now()) / 1000));
      return { enrolment: seal(pending), credential: challenge.credential, akName: challenge.akName, expiresIn };
    },

    async activate(input: ActivateInput) {
      const { agent, requestId } = input;
      const enrolment = enabled();
      const pending = await Promise.resolve()
        .then(() => open(input.enrolment, agent))
        .catch((error: unknown) => rejected(agent, requestId, error));
      // One answer per enrolment, right or wrong, on every replica.
      if (!(await deps.replay.checkAndInsert('tpm-enrolment', pending.secretDigest, pending.expiresAt, deps.clock.now())))
        await rejected(agent, requestId, new MandateError('ERR_KEY_ENROLMENT_REPLAYED', 'the enrolment was already answered: start again'));
      const record = await enrolment.complete(pending, input.secret).catch((error: unknown) => rejected(agent, requestId, error));
      const event: AuditEventInput = {
        type: 'attestation_key.registered', actor: agent.id, requestId,
        data: { ak_name: record.akName, ek_certificate_digest: record.ekCertificateDigest },
      };
      await deps.audit.record(event).catch(async (error: unknown) => {
        await deps.repository.remove(agent.id, record.akName);
        throw error;
      });
      return { akName: record.akName };
    },
  };
}

export type KeyEnrolmentService = ReturnType<typeof createKeyEnrolmentService>;
