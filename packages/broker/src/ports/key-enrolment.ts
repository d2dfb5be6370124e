import type { AttestationKeyRecord } from './attestation-keys.ts';

/** What an agent sends to enrol a TPM attestation key (all base64; attestor tpm-quote). */
export interface KeyEnrolmentRequest {
  agentId: string;
  akPublic: string;
  ekPublic: string;
  ekCertificate: string;
}

/**
 * The state of an enrolment between its two steps. It holds only a digest of the secret, so
 * the broker may hand it to the agent sealed (services/key-enrolment.ts) instead of storing it.
 */
export interface PendingKeyEnrolment {
  agentId: string;
  akName: string;
  akPublic: string;
  ekCertificateDigest: string;
  secretDigest: string;
  expiresAt: number;
}

/**
 * AK enrolment by credential activation (implemented by attestors/tpm-quote/enrolment.ts):
 * `begin` checks the AK and EK and returns the credential to activate; `complete` compares the
 * agent's answer and registers the AK.
 */
export interface KeyEnrolment {
  begin(request: KeyEnrolmentRequest): Promise<{ challenge: { credential: string; akName: string; expiresAt: number }; pending: PendingKeyEnrolment }>;
  complete(pending: PendingKeyEnrolment, activated: string): Promise<AttestationKeyRecord>;
}
