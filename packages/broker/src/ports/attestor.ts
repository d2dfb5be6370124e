import type { AttestationKeyLookup } from './attestation-keys.ts';
import type { Clock } from './clock.ts';
import type { ReplayCache } from './replay-cache.ts';

/** Per-attestor appraisal status, as in EAR (draft-ietf-rats-ear §3.2 trustworthiness tiers). */
export type AttestorStatus = 'affirming' | 'warning' | 'contraindicated';

export type ClaimValue = string | string[] | number | boolean;

/** What evidence must be bound to (PROTOCOL §3). */
export interface EvidenceBinding {
  /** The `/challenge` nonce, already checked and consumed. */
  nonce: string;
  /** RFC 7638 thumbprint of the DPoP key the result will be bound to. */
  jkt: string;
  agentId: string;
  /** Epoch milliseconds. */
  now: number;
  /** `mandate:` + b64url(SHA-256(nonce ‖ jkt)): the audience of caller-chosen-audience tokens. */
  expectedAudience: string;
}

export interface AttestorResult {
  attestor: string;
  status: AttestorStatus;
  claims: Record<string, ClaimValue>;
  /** Names of `claims` that are measurements, not assertions by the agent. */
  measured: string[];
  /**
   * Names of `claims` that are the agent's own assertions: a `warning` result is upgraded to
   * `affirming` when a policy equality binds one of them to a measured claim (PROTOCOL §3).
   */
  affirmableBy?: string[];
  /** SHA-256 of the raw evidence (see `digestEvidence`); raw evidence is never kept. */
  evidenceDigest: string;
  /** Epoch milliseconds after which the evidence no longer vouches for anything. */
  expiresAt?: number;
}

/**
 * One verifier of one evidence kind. `verify` throws a `MandateError` with the attestor's own
 * code when the evidence is malformed, badly signed, unbound or stale.
 */
export interface Attestor {
  id: string;
  verify(evidence: unknown, binding: EvidenceBinding): Promise<AttestorResult>;
}

/** What the registry hands every attestor factory. */
export interface AttestorDeps {
  replay: ReplayCache;
  clock: Clock;
  /** Registered TPM attestation keys; required by `tpm-quote` only. */
  attestationKeys?: AttestationKeyLookup;
}
