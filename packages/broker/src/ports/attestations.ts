import type { ErrorCode } from '../core/errors.ts';
import type { AttestorStatus, ClaimValue } from './attestor.ts';

/** The policy's verdict over all evidence of one `/attest` call. */
export type Verdict = 'affirming' | 'warning' | 'contraindicated' | 'rejected';

/** One attestor's outcome as stored: digests, claims and reasons, never the raw evidence. */
export type StoredAttestorOutcome =
  | {
      attestor: string;
      /** After the policy's upgrades (code-digest affirmed by a measurement). */
      status: AttestorStatus;
      /** As the attestor itself reported it. */
      reportedStatus: AttestorStatus;
      claims: Record<string, ClaimValue>;
      measured: string[];
      evidenceDigest: string;
      expiresAt: number | null;
    }
  | { attestor: string; status: 'rejected'; reason: ErrorCode; message: string; evidenceDigest: string };

export interface PolicyFailure {
  attestor?: string;
  claim?: string;
  reason: ErrorCode;
}

export interface AttestationRecord {
  /** `att_…`; also the `jti` of the result JWT. */
  id: string;
  agentId: string;
  /** The DPoP key the result is bound to. */
  jkt: string;
  policy: string;
  verdict: Verdict;
  /** One entry per piece of evidence, in the order presented. */
  results: StoredAttestorOutcome[];
  failures: PolicyFailure[];
  /** Index of the policy alternative that decided the verdict, if one did. */
  satisfiedBy: number | null;
  /** SHA-256 (hex) of the JCS of `{ attestor id: evidence digest }`. */
  evidenceDigest: string;
  createdAt: number;
  /** When the result stops being fresh; equal to `createdAt` when no result was issued. */
  expiresAt: number;
}

export interface AttestationRepository {
  insert(record: AttestationRecord): Promise<void>;
  get(id: string): Promise<AttestationRecord | null>;
  /** The agent's newest `limit` records, newest first. */
  listByAgent(agentId: string, limit: number): Promise<AttestationRecord[]>;
}
