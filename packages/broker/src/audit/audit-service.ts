import { appendFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { JWT_TYP } from '@mandate/sdk/protocol';
import type { AuditEventInput, AuditRecord, ChainHead } from '../core/audit-chain.ts';
import { MandateError } from '../core/errors.ts';
import type { KeyService } from '../keys/key-service.ts';
import type { AuditLog } from '../ports/audit-log.ts';
import type { AuditAppend, AuditSink, HeadSealer } from '../ports/audit-sink.ts';
import type { Clock } from '../ports/clock.ts';
import type { Metrics } from '../ports/metrics.ts';

export interface AuditLogOptions {
  sink: AuditSink;
  keys: Pick<KeyService, 'sign'>;
  clock: Clock;
  /** This process's chain (PROTOCOL §9: one chain per replica). */
  chain: string;
  issuer: string;
  /** External checkpoint file: one sealed head (compact JWS) per line, append-only. */
  checkpointFile: string;
  /** Called when a checkpoint could not be written; the record itself is already committed. */
  onCheckpointError?: (error: Error) => void;
  /** Times each durable append (`mandate_audit_commit_seconds`). */
  metrics?: Pick<Metrics, 'auditCommit'>;
}

/** The claims of a sealed chain head (`typ: audit-head+jwt`). */
export interface AuditHeadClaims {
  iss: string;
  chain: string;
  seq: number;
  hash: string;
  iat: number;
  time: number;
}

/**
 * The audit log services write to. `record` resolves once the events and the sealed head are
 * committed to the store, then appends the head to the external checkpoint file.
 *
 * Group commit: the events of every `record` call made in one event-loop turn are appended
 * together (one chain lock, one sealed head, one checkpoint line, one durable commit). Each caller
 * gets back its own records and resolves only after that commit; if it fails, every caller of the
 * batch fails with `ERR_AUDIT_UNAVAILABLE` and nothing of the batch is stored (on SQLite, a batch
 * whose WAL flush failed may be stored; the store then closes, store/sqlite/sync-transaction.ts).
 *
 * @example
 * const audit = createAuditLog({ sink: store.audit, keys, clock, chain: 'main', issuer, checkpointFile });
 * await audit.record({ type: 'token.issued', actor: agentId, jti });
 */
export function createAuditLog(options: AuditLogOptions): AuditLog {
  let batch: PendingRecord[] = [];
  const flush = async () => {
    const pending = takeBatch(batch);
    batch = batch.slice(pending.length);
    if (batch.length > 0) setImmediate(() => void flush());
    let sealed = '';
    const seal: HeadSealer = (head, time) => (sealed = sealHead(options, head, time));
    const inputs = pending.flatMap((p) => p.inputs);
    let records: AuditRecord[];
    try {
      // PROTOCOL §9: nothing is issued before this commit resolves; a failed commit is a 503 the caller may retry.
      const started = performance.now();
      records = await options.sink.append(options.chain, inputs, options.clock.now(), seal);
      options.metrics?.auditCommit((performance.now() - started) / 1000);
    } catch (error) {
      const failure = Object.assign(new MandateError('ERR_AUDIT_UNAVAILABLE', 'the audit log could not commit the event'), { cause: error });
      for (const p of pending) p.reject(failure);
      return;
    }
    writeCheckpoint(options, sealed);
    let offset = 0;
    for (const p of pending) {
      p.resolve(records.slice(offset, offset + p.inputs.length));
      offset += p.inputs.length;
    }
  };
  return {
    record(...inputs: AuditEventInput[]): Promise<AuditRecord[]> {
      if (inputs.length === 0) return Promise.resolve([]);
      return new Promise((resolve, reject) => {
        if (batch.length === 0) setImmediate(() => void flush());
        batch.push({ inputs, resolve, reject });
      });
    },
    /** Events appended inside another transaction (a revocation's, docs/revocation.md); checkpointed after its commit. */
    async within<T extends { records: AuditRecord[] }>(commit: (append: AuditAppend) => Promise<T>): Promise<T> {
      const sealed: { head?: ChainHead; jws?: string } = {};
      const seal: HeadSealer = (head, time) => {
        sealed.head = head;
        return (sealed.jws = sealHead(options, head, time));
      };
      const started = performance.now();
      let result: T;
      try {
        result = await commit({ chain: options.chain, time: options.clock.now(), seal });
      } catch (error) {
        throw Object.assign(new MandateError('ERR_AUDIT_UNAVAILABLE', 'the audit log could not commit the event'), { cause: error });
      }
      const last = result.records.at(-1);
      if (!last) return result;
      options.metrics?.auditCommit((performance.now() - started) / 1000);
      // The checkpoint is the committed head only if the seal covered exactly this commit's last
      // event. It may not have: in a group commit another caller's append sealed the batch's head
      // (and writes it), and a seal from a rolled-back attempt (a retried PostgreSQL batch) is void.
      if (sealed.head?.seq === last.seq && sealed.head.hash === last.hash) writeCheckpoint(options, sealed.jws ?? '');
      return result;
    },
  };
}

/** Events per append: well under SQLite's 32766 bound parameters (13 columns a row). */
const MAX_BATCH_EVENTS = 500;

/** The records that fit in one append (at least one, whatever its size), oldest first. */
function takeBatch(queue: readonly PendingRecord[]): PendingRecord[] {
  let events = 0;
  let n = 0;
  while (n < queue.length && (n === 0 || events + queue[n]!.inputs.length <= MAX_BATCH_EVENTS)) events += queue[n++]!.inputs.length;
  return queue.slice(0, n);
}

interface PendingRecord {
  inputs: AuditEventInput[];
  resolve: (records: AuditRecord[]) => void;
  reject: (error: unknown) => void;
}

export function sealHead(options: Pick<AuditLogOptions, 'keys' | 'issuer'>, head: ChainHead, time: number): string {
  const claims: AuditHeadClaims = {
    iss: options.issuer,
    chain: head.chain,
    seq: head.seq,
    hash: head.hash,
    iat: Math.floor(time / 1000),
    time,
  };
  return options.keys.sign({ typ: JWT_TYP.auditHead }, { ...claims });
}

/**
 * PROTOCOL §9: the checkpoint outside the store lets `audit verify` detect a truncated tail. A
 * failed write must not undo a committed record (the store copy stays authoritative); verify
 * then shows the checkpoint lagging behind.
 */
function writeCheckpoint(options: AuditLogOptions, jws: string): void {
  if (!jws) return;
  try {
    appendFileSync(options.checkpointFile, `${jws}\n`, { mode: 0o600, flag: 'a' });
  } catch (error) {
    options.onCheckpointError?.(error instanceof Error ? error : new Error(String(error)));
  }
}
