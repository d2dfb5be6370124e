import type { AuditEventInput, AuditRecord, ChainHead } from '../core/audit-chain.ts';

/** Seals a chain head (signs it with the broker key); returns a compact JWS. */
export type HeadSealer = (head: ChainHead, time: number) => string;

export interface SignedHead extends ChainHead {
  jws: string;
}

/**
 * Durable, hash-chained audit storage (PROTOCOL §9). `append` assigns `seq` under the chain's
 * lock, links and stores the events, stores the sealed head, and resolves only once committed.
 */
export interface AuditSink {
  append(chain: string, inputs: readonly AuditEventInput[], time: number, seal: HeadSealer): Promise<AuditRecord[]>;
  head(chain: string): Promise<SignedHead | null>;
  /** Events of `chain` with seq ≥ `fromSeq`, ascending, at most `limit`. */
  read(chain: string, fromSeq: number, limit: number): Promise<AuditRecord[]>;
  /** The newest `limit` events across chains, newest last. */
  tail(limit: number): Promise<AuditRecord[]>;
  chains(): Promise<string[]>;
  /** Events naming `mandateId`, oldest first, at most `limit`. */
  byMandate(mandateId: string, limit: number): Promise<AuditRecord[]>;
  /** Events naming the token or proof `jti`, oldest first (at most a few: issue, revoke). */
  byJti(jti: string): Promise<AuditRecord[]>;
  /** Events with `fromTime` ≤ time < `toTime`, oldest first, at most `limit`. */
  window(fromTime: number, toTime: number, limit: number): Promise<AuditRecord[]>;
}
