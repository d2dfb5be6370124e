/**
 * TPM attestation keys (AKs) registered for an agent by credential activation
 * (attestors/tpm-quote/README.md): the only keys whose quotes the `tpm-quote` attestor believes.
 */
export interface AttestationKeyRecord {
  agentId: string;
  /** TPM name of the AK: nameAlg ‖ SHA-256(TPMT_PUBLIC), lowercase hex (`000b…`). */
  akName: string;
  /** The AK's TPMT_PUBLIC, base64: the verification key; `akName` is computed over these bytes. */
  akPublic: string;
  /** `sha256:<hex>` of the EK certificate (DER) that vouched for the TPM at enrolment. */
  ekCertificateDigest: string;
  createdAt: number;
}

/** What the `tpm-quote` attestor needs: an agent's registered AKs (none → the quote is refused). */
export interface AttestationKeyLookup {
  get(agentId: string): Promise<readonly AttestationKeyRecord[]>;
}

export interface AttestationKeyRepository {
  /** Registers an AK; refuses a second record with the same (agentId, akName) and an unknown agent. */
  add(record: AttestationKeyRecord): Promise<void>;
  /** The agent's AKs, oldest first. */
  listForAgent(agentId: string): Promise<AttestationKeyRecord[]>;
  /** Unregisters one AK; returns false when there was none. */
  remove(agentId: string, akName: string): Promise<boolean>;
}
