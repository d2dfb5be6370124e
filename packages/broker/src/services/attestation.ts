import { digestAll, digestEvidence } from '../attestors/evidence-digest.ts';
import type { AuditEventInput } from '../core/audit-chain.ts';
import { clip } from '../core/clip.ts';
import { isMandateError, MandateError } from '../core/errors.ts';
import type { Agent } from '../core/model.ts';
import type { KeyService } from '../keys/key-service.ts';
import { evaluatePolicy, policyApplies, type AttestationPolicy, type AttestorOutcome, type PolicyEvaluation } from '../policy/evaluate.ts';
import type { AttestationRecord, AttestationRepository, StoredAttestorOutcome } from '../ports/attestations.ts';
import type { Attestor, EvidenceBinding } from '../ports/attestor.ts';
import type { AuditLog } from '../ports/audit-log.ts';
import type { Clock } from '../ports/clock.ts';
import type { Random } from '../ports/random.ts';
import { signAttestationResult } from './attestation-result.ts';
import { evidenceAudience, type ChallengeService } from './challenge.ts';

export interface AttestationServiceDeps {
  attestations: AttestationRepository;
  challenges: Pick<ChallengeService, 'consumeChallenge'>;
  /** The enabled attestors by id (`createAttestors`). */
  attestors: ReadonlyMap<string, Attestor>;
  policies: Readonly<Record<string, AttestationPolicy>>;
  keys: Pick<KeyService, 'sign'>;
  audit: AuditLog;
  clock: Clock;
  random: Random;
  issuer: string;
  /** Runs after a contraindicated verdict is stored and audited (PROTOCOL §3: suspend mandates, notify owners). */
  onContraindicated?: (record: AttestationRecord, requestId: string) => Promise<void>;
}

export interface EvidenceItem {
  attestor: string;
  evidence: unknown;
}

export interface AttestInput {
  /** The authenticated agent (`private_key_jwt`). */
  agent: Agent;
  /** Thumbprint of the request's verified DPoP proof: the result is bound to it. */
  jkt: string;
  /** The `/challenge` nonce. */
  nonce: unknown;
  evidence: readonly EvidenceItem[];
  requestId: string;
}

export interface Attested {
  /** The signed result (`typ: attestation-result+jwt`). */
  token: string;
  record: AttestationRecord;
  /** Seconds until the result goes stale. */
  expiresIn: number;
}

const MAX_EVIDENCE = 8;

/**
 * PROTOCOL §3 `POST /attest`: spends the challenge, lets every named attestor verify its piece,
 * applies the agent's policy, stores and audits the outcome, and signs the result. A rejected or
 * contraindicated verdict is stored and audited too, then thrown. Raw evidence is never kept.
 */
export function createAttestationService(deps: AttestationServiceDeps) {
  const rejectEarly = async (input: AttestInput, error: unknown): Promise<never> => {
    if (isMandateError(error))
      await deps.audit.record({ type: 'attestation.rejected', actor: input.agent.id, requestId: input.requestId, data: { policy: input.agent.policy, reason: error.code } });
    throw error;
  };

  return async function attest(input: AttestInput): Promise<Attested> {
    const policy = await admit(input, deps).catch((error: unknown) => rejectEarly(input, error));
    const now = deps.clock.now();
    const binding: EvidenceBinding = { nonce: input.nonce as string, jkt: input.jkt, agentId: input.agent.id, now, expectedAudience: evidenceAudience(input.nonce as string, input.jkt) };
    const outcomes = await runAttestors(input.evidence, binding, deps.attestors);
    const evaluation = evaluatePolicy(policy, input.agent.id, new Map([...outcomes].map(([id, o]) => [id, o.outcome])));
    const record = buildRecord(input, policy, outcomes, evaluation, `att_${deps.random.base64url(16)}`, now);
    await deps.attestations.insert(record);
    const issued = record.verdict === 'affirming' || record.verdict === 'warning';
    const token = issued ? signAttestationResult(deps.keys, resultClaims(record, deps.issuer)) : null;
    // PROTOCOL §9: nothing leaves before its audit event is committed.
    await deps.audit.record(auditEvent(record, issued, input.requestId));
    if (record.verdict === 'contraindicated') {
      await deps.onContraindicated?.(record, input.requestId);
      throw new MandateError('ERR_ATTESTATION_CONTRAINDICATED', 'an attestor reported contraindicated evidence', { attestation_id: record.id });
    }
    if (token === null)
      throw new MandateError('ERR_ATTESTATION_REJECTED', 'the evidence does not satisfy the attestation policy', { attestation_id: record.id, failures: record.failures });
    return { token, record, expiresIn: Math.floor(record.expiresAt / 1000) - Math.floor(now / 1000) };
  };
}

/** Request-level checks, then the challenge is spent (last, so a malformed request does not burn it). */
async function admit(input: AttestInput, deps: AttestationServiceDeps): Promise<AttestationPolicy> {
  checkEvidenceList(input.evidence, deps.attestors);
  const policy = Object.hasOwn(deps.policies, input.agent.policy) ? deps.policies[input.agent.policy] : undefined;
  if (!policy) throw new MandateError('ERR_AGENT_POLICY_UNKNOWN', `no attestation policy named "${clip(input.agent.policy)}" in the config`);
  if (!policyApplies(policy, input.agent.id)) throw new MandateError('ERR_POLICY_AGENT_SCOPE', `policy "${input.agent.policy}" is scoped to other agents`);
  await deps.challenges.consumeChallenge(input.nonce);
  return policy;
}

function checkEvidenceList(evidence: unknown, attestors: ReadonlyMap<string, Attestor>): void {
  if (!Array.isArray(evidence) || evidence.length === 0 || evidence.length > MAX_EVIDENCE)
    throw new MandateError('ERR_ATTESTATION_EVIDENCE_INVALID', `evidence must list 1 to ${MAX_EVIDENCE} items`);
  const ids = evidence.map((item: unknown) => (typeof item === 'object' && item !== null ? (item as { attestor?: unknown }).attestor : undefined));
  if (ids.some((id) => typeof id !== 'string')) throw new MandateError('ERR_ATTESTATION_EVIDENCE_INVALID', 'every item must be { attestor, evidence }');
  const duplicate = ids.find((id, i) => ids.indexOf(id) !== i);
  if (duplicate !== undefined) throw new MandateError('ERR_ATTESTATION_EVIDENCE_INVALID', `evidence lists ${clip(String(duplicate))} twice`);
  const unknown = ids.find((id) => !attestors.has(id as string)) as string | undefined;
  if (unknown !== undefined) throw new MandateError('ERR_ATTESTOR_UNKNOWN', `no enabled attestor "${clip(unknown)}"`, { attestor: clip(unknown) });
}

interface RunOutcome {
  outcome: AttestorOutcome;
  message: string;
  evidenceDigest: string;
}

/** Every attestor on its own evidence; a verification failure becomes a recorded rejection with its reason. */
async function runAttestors(items: readonly EvidenceItem[], binding: EvidenceBinding, attestors: ReadonlyMap<string, Attestor>): Promise<Map<string, RunOutcome>> {
  const run = async ({ attestor, evidence }: EvidenceItem): Promise<[string, RunOutcome]> => {
    try {
      const result = await attestors.get(attestor)!.verify(evidence, binding);
      return [attestor, { outcome: { ok: true, result }, message: '', evidenceDigest: result.evidenceDigest }];
    } catch (error) {
      // A 5xx (issuer keys unreachable) says nothing about the evidence: the request fails instead.
      if (!isMandateError(error) || error.status >= 500) throw error;
      return [attestor, { outcome: { ok: false, reason: error.code }, message: error.message, evidenceDigest: digestEvidence(evidence) }];
    }
  };
  return new Map(await Promise.all(items.map(run)));
}

function buildRecord(input: AttestInput, policy: AttestationPolicy, outcomes: Map<string, RunOutcome>, evaluation: PolicyEvaluation, id: string, now: number): AttestationRecord {
  const results = [...outcomes].map(([attestor, run]) => storedOutcome(attestor, run, evaluation));
  const evidenceDigest = digestAll(Object.fromEntries(results.map((r) => [r.attestor, r.evidenceDigest])));
  const base = { id, agentId: input.agent.id, jkt: input.jkt, policy: input.agent.policy, results, evidenceDigest, createdAt: now };
  const decided = { verdict: evaluation.verdict, failures: evaluation.failures, satisfiedBy: evaluation.satisfiedBy ?? null };
  if (evaluation.verdict !== 'affirming' && evaluation.verdict !== 'warning') return { ...base, ...decided, expiresAt: now };
  // DESIGN (Concepts): fresh for the policy's window, and never past any attestor's own expiry.
  const expiries = results.flatMap((r) => (r.status !== 'rejected' && r.expiresAt !== null ? [r.expiresAt] : []));
  // Whole seconds, so the stored expiry is exactly the result's `exp`.
  const expiresAt = Math.floor(Math.min(now + policy.freshness, ...expiries) / 1000) * 1000;
  if (expiresAt <= now) return { ...base, verdict: 'rejected', failures: [...evaluation.failures, { reason: 'ERR_ATTESTATION_STALE' }], satisfiedBy: null, expiresAt: now };
  return { ...base, ...decided, expiresAt };
}

function storedOutcome(attestor: string, run: RunOutcome, evaluation: PolicyEvaluation): StoredAttestorOutcome {
  if (!run.outcome.ok) return { attestor, status: 'rejected', reason: run.outcome.reason, message: run.message, evidenceDigest: run.evidenceDigest };
  const { result } = run.outcome;
  const status = evaluation.statuses[attestor] ?? result.status;
  return { attestor, status, reportedStatus: result.status, claims: result.claims, measured: result.measured, evidenceDigest: result.evidenceDigest, expiresAt: result.expiresAt ?? null };
}

function resultClaims(record: AttestationRecord, issuer: string) {
  const attestors = Object.fromEntries(record.results.flatMap((r) => (r.status === 'rejected' ? [] : [[r.attestor, { status: r.status, claims: r.claims }]])));
  return {
    iss: issuer, sub: record.agentId, aud: issuer, jti: record.id, cnf: { jkt: record.jkt },
    iat: Math.floor(record.createdAt / 1000), exp: Math.floor(record.expiresAt / 1000),
    verdict: record.verdict as 'affirming' | 'warning', policy: record.policy, attestors, evidence_digest: record.evidenceDigest,
  };
}

/** Statuses and reasons only, never evidence or claims (the stored record has the claims). */
function auditEvent(record: AttestationRecord, issued: boolean, requestId: string): AuditEventInput {
  const attestors = Object.fromEntries(record.results.map((r) => [r.attestor, r.status === 'rejected' ? { status: r.status, reason: r.reason } : { status: r.status }]));
  return {
    type: issued ? 'attestation.verified' : 'attestation.rejected',
    actor: record.agentId, jti: issued ? record.id : null, evidenceDigest: record.evidenceDigest, requestId,
    data: { attestation_id: record.id, policy: record.policy, verdict: record.verdict, attestors, failures: record.failures.map((f) => f.reason) },
  };
}
