import type { AuditRecord, ChainHead } from '../core/audit-chain.ts';
import type { KeyService } from '../keys/key-service.ts';
import type { AuditLog } from '../ports/audit-log.ts';
import type { AuditSink } from '../ports/audit-sink.ts';
import type { Clock } from '../ports/clock.ts';

/** The event a replica writes into its own chain, naming the heads of the others (PROTOCOL §9). */
export const CROSS_CHECKPOINT_EVENT = 'audit.cross_checkpointed';
/** `typ` of the JWS a cross-checkpoint event carries in `data.jws`. */
export const CROSS_CHECKPOINT_TYP = 'audit-cross-checkpoint+jwt';

/** The claims of a cross-checkpoint JWS: which chain wrote it, and the other chains' heads it saw. */
export interface CrossCheckpointClaims {
  iss: string;
  chain: string;
  heads: ChainHead[];
  iat: number;
}

export interface CrossCheckpointOptions {
  sink: Pick<AuditSink, 'chains' | 'head' | 'heads'>;
  audit: AuditLog;
  keys: Pick<KeyService, 'sign'>;
  clock: Clock;
  /** This replica's chain (config `audit.chain`). */
  chain: string;
  issuer: string;
}

export interface CrossCheckpointer {
  /** Records the current heads of every other chain; null when there is none, or nothing moved since the last one. */
  write(): Promise<AuditRecord | null>;
}

/**
 * PROTOCOL §9: with one chain per replica, no chain lock is shared, so nothing in one chain says
 * how long another was. A cross-checkpoint pins the other chains' committed heads (seq + hash)
 * inside this chain, signed, so `mandate audit verify` detects another chain cut short or
 * rewritten below a pinned head even when that chain's own external checkpoints are lost.
 *
 * @example
 * const cross = createCrossCheckpointer({ sink: store.audit, audit, keys, clock, chain: 'replica-1', issuer });
 * await cross.write(); // → the `audit.cross_checkpointed` record, or null
 */
export function createCrossCheckpointer(options: CrossCheckpointOptions): CrossCheckpointer {
  let last = '';
  return {
    async write() {
      const heads = await otherHeads(options);
      const seen = JSON.stringify(heads);
      // Idle replicas would otherwise add one identical event per interval forever.
      if (heads.length === 0 || seen === last) return null;
      const claims: CrossCheckpointClaims = { iss: options.issuer, chain: options.chain, heads, iat: Math.floor(options.clock.now() / 1000) };
      const jws = options.keys.sign({ typ: CROSS_CHECKPOINT_TYP }, { ...claims });
      const [record] = await options.audit.record({ type: CROSS_CHECKPOINT_EVENT, actor: null, data: { heads, jws } });
      last = seen;
      return record ?? null;
    },
  };
}

/** The committed heads of every chain but ours, by chain name. A head of seq 0 is a first append in flight. */
async function otherHeads(options: CrossCheckpointOptions): Promise<ChainHead[]> {
  // `heads()` reads the head table only; `chains()` also scans the (large, partitioned) events table.
  if (options.sink.heads) return (await options.sink.heads()).filter((h) => h.chain !== options.chain && h.seq > 0).map(({ chain, seq, hash }) => ({ chain, seq, hash }));
  const heads: ChainHead[] = [];
  for (const chain of await options.sink.chains()) {
    if (chain === options.chain) continue;
    const head = await options.sink.head(chain);
    if (head && head.seq > 0) heads.push({ chain: head.chain, seq: head.seq, hash: head.hash });
  }
  return heads;
}

/**
 * Writes a cross-checkpoint every `intervalMs` (config `audit.crossCheckpointInterval`). A failed
 * write is reported and retried at the next tick: the events it would pin stay in their chains.
 */
export function startCrossCheckpoints(checkpointer: CrossCheckpointer, intervalMs: number, onError: (error: Error) => void): { stop(): void } {
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    checkpointer
      .write()
      .catch((error: unknown) => onError(error instanceof Error ? error : new Error(String(error))))
      .finally(() => (running = false));
  }, intervalMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
