import type { AuditEventInput, AuditEventType, AuditRecord, ChainHead } from '../core/audit-chain.ts';

/** Seals a chain head (signs it with the broker key); returns a compact JWS. */
export type HeadSealer = (head: ChainHead, time: number) => string;

/** Where events appended inside another store transaction go (`AuditLog.within`): this log's chain, time and seal. */
export interface AuditAppend {
  chain: string;
  time: number;
  seal: HeadSealer;
}

/** Filters of `AuditSink.query`; an agent matches events it acted in or naming one of its mandates. */
export interface AuditFilter {
  type?: AuditEventType;
  mandateId?: string;
  /** A human: events where they acted or approved. */
  human?: string;
  agent?: { id: string; mandateIds: readonly string[] };
  /** Epoch ms, inclusive. */
  fromTime?: number;
  /** Epoch ms, exclusive. */
  toTime?: number;
  /** The position of the last event of the previous page. */
  before?: { time: number; chain: string; seq: number };
}

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
  /** Every sealed head, by chain name; cheap (no scan of the events), for cross-checkpoints. */
  heads?(): Promise<ChainHead[]>;
  /** Events naming `mandateId`, oldest first, at most `limit`. */
  byMandate(mandateId: string, limit: number): Promise<AuditRecord[]>;
  /** Events naming the token or proof `jti`, oldest first (at most a few: issue, revoke). */
  byJti(jti: string): Promise<AuditRecord[]>;
  /** Events with `fromTime` ≤ time < `toTime`, oldest first, at most `limit`. */
  window(fromTime: number, toTime: number, limit: number): Promise<AuditRecord[]>;
  /**
   * The console's audit filters: events matching every filter given, newest first (time, chain,
   * seq descending), strictly older than `before` when given, at most `limit`. Optional so an
   * adapter without it still works: `services/audit-query.ts` then filters `window` pages itself.
   */
  query?(filter: AuditFilter, limit: number): Promise<AuditRecord[]>;
  /**
   * Claims `chain` for this process while it runs, so that two replicas never write one chain by
   * accident (PROTOCOL §9: one chain per replica). Null when another live process holds it. Absent
   * where one process owns the store (SQLite).
   */
  claimChain?(chain: string, onError?: (error: Error) => void): Promise<ChainClaim | null>;
}

export interface ChainClaim {
  release(): Promise<void>;
}
