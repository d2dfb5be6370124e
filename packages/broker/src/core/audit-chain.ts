/**
 * PROTOCOL §9: every audit event has a gap-free `seq` within its chain and the hash of the previous
 * event. Pure: the caller supplies the canonical-JSON and SHA-256 functions.
 */

/** Event types are `noun.past_tense` (STYLE). */
export type AuditEventType =
  | 'human.added'
  | 'human.disabled'
  | 'human.invited'
  | 'human_roles.changed'
  | 'passkey.registered'
  | 'console_session.started'
  | 'mandate.resumed'
  | 'agent.registered'
  | 'agent.suspended'
  | 'agent.retired'
  | 'agent.orphaned'
  | 'admin_token.created'
  | 'admin_token.revoked'
  | 'key.created'
  | 'key.rotated'
  | 'attestation.verified'
  | 'attestation.rejected'
  | 'attestation_key.registered'
  | 'attestation_key.rejected'
  | 'mandate.requested'
  | 'mandate.approved'
  | 'mandate.denied'
  | 'mandate.revoked'
  | 'mandate.suspended'
  | 'mandate.activated'
  | 'mandate.exhausted'
  | 'mandate.delegated'
  | 'mandate.reviewed'
  | 'delegation.rejected'
  | 'finding.recorded'
  | 'finding.converted'
  | 'finding.dismissed'
  | 'lifecycle_flag.raised'
  | 'lifecycle_flag.cleared'
  | 'ssf_stream.created'
  | 'ssf_stream.updated'
  | 'ssf_stream.deleted'
  | 'token.issued'
  | 'token.revoked'
  /** PROTOCOL §9: the heads of the other replicas' chains, pinned in this one (audit/cross-checkpoint.ts). */
  | 'audit.cross_checkpointed';

export interface AuditEventInput {
  type: AuditEventType;
  /** Who acted: an agent id for agent calls, a human id for admin calls. */
  actor: string | null;
  /** The approving human, when a mandate is involved. */
  approver?: string | null;
  mandateId?: string | null;
  /** Credential `jti`. */
  jti?: string | null;
  /** Digest of the evidence behind the decision (never the evidence itself). */
  evidenceDigest?: string | null;
  requestId?: string | null;
  /** Further facts, never secrets. */
  data?: Record<string, unknown>;
}

export interface AuditRecord {
  chain: string;
  seq: number;
  /** Epoch milliseconds. */
  time: number;
  type: AuditEventType;
  actor: string | null;
  approver: string | null;
  mandateId: string | null;
  jti: string | null;
  evidenceDigest: string | null;
  requestId: string | null;
  data: Record<string, unknown>;
  prevHash: string;
  hash: string;
}

export interface ChainHead {
  chain: string;
  seq: number;
  hash: string;
}

/** The `prevHash` of the first event of every chain. */
export const GENESIS_HASH = '0'.repeat(64);

export interface ChainHashing {
  canonicalize(value: unknown): string;
  sha256Hex(text: string): string;
}

/** The exact members a hash covers, in wire (snake_case) names. */
export function hashedContent(record: Omit<AuditRecord, 'hash'>): Record<string, unknown> {
  return {
    chain: record.chain,
    seq: record.seq,
    time: record.time,
    type: record.type,
    actor: record.actor,
    approver: record.approver,
    mandate_id: record.mandateId,
    jti: record.jti,
    evidence_digest: record.evidenceDigest,
    request_id: record.requestId,
    data: record.data,
    prev_hash: record.prevHash,
  };
}

export function hashRecord(record: Omit<AuditRecord, 'hash'>, hashing: ChainHashing): string {
  return hashing.sha256Hex(hashing.canonicalize(hashedContent(record)));
}

/** Links new events after `head` (null for an empty chain). */
export function linkEvents(
  chain: string,
  head: ChainHead | null,
  inputs: readonly AuditEventInput[],
  time: number,
  hashing: ChainHashing,
): AuditRecord[] {
  let seq = head?.seq ?? 0;
  let prevHash = head?.hash ?? GENESIS_HASH;
  return inputs.map((input) => {
    seq += 1;
    const unhashed = {
      chain,
      seq,
      time,
      type: input.type,
      actor: input.actor,
      approver: input.approver ?? null,
      mandateId: input.mandateId ?? null,
      jti: input.jti ?? null,
      evidenceDigest: input.evidenceDigest ?? null,
      requestId: input.requestId ?? null,
      data: input.data ?? {},
      prevHash,
    };
    const record: AuditRecord = { ...unhashed, hash: hashRecord(unhashed, hashing) };
    prevHash = record.hash;
    return record;
  });
}

export type ChainFault =
  | { code: 'ERR_AUDIT_SEQ_GAP'; seq: number; expected: number }
  | { code: 'ERR_AUDIT_PREV_MISMATCH'; seq: number }
  | { code: 'ERR_AUDIT_HASH_MISMATCH'; seq: number };

/**
 * Checks records read in ascending `seq` order, starting at the chain's first event or right
 * after `after` (so a long chain can be checked page by page). Returns every fault found; an
 * empty list means the chain is intact over the records given.
 */
export function checkChain(records: Iterable<AuditRecord>, hashing: ChainHashing, after: ChainHead | null = null): ChainFault[] {
  const faults: ChainFault[] = [];
  let expectedSeq = (after?.seq ?? 0) + 1;
  let prevHash = after?.hash ?? GENESIS_HASH;
  for (const record of records) {
    if (record.seq !== expectedSeq) faults.push({ code: 'ERR_AUDIT_SEQ_GAP', seq: record.seq, expected: expectedSeq });
    if (record.prevHash !== prevHash) faults.push({ code: 'ERR_AUDIT_PREV_MISMATCH', seq: record.seq });
    const { hash, ...unhashed } = record;
    if (hashRecord(unhashed, hashing) !== hash) faults.push({ code: 'ERR_AUDIT_HASH_MISMATCH', seq: record.seq });
    expectedSeq = record.seq + 1;
    prevHash = hash;
  }
  return faults;
}
