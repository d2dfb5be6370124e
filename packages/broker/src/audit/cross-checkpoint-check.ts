import { isDeepStrictEqual } from 'node:util';
import type { AuditRecord, ChainHead } from '../core/audit-chain.ts';
import { verifyCompact } from '../keys/jws.ts';
import type { AuditSink } from '../ports/audit-sink.ts';
import { CROSS_CHECKPOINT_EVENT, CROSS_CHECKPOINT_TYP } from './cross-checkpoint.ts';
import type { VerificationKeys } from './verification-keys.ts';

export type CrossCheckpointFaultCode = 'ERR_AUDIT_CROSS_CHECKPOINT_INVALID' | 'ERR_AUDIT_CROSS_CHECKPOINT_TRUNCATED' | 'ERR_AUDIT_CROSS_CHECKPOINT_MISMATCH';

export interface CrossCheckpointFault {
  code: CrossCheckpointFaultCode;
  chain: string;
  seq: number;
  message: string;
}

/** One head pinned by a cross-checkpoint: `head` as seen from event `seq` of chain `from`. */
interface Pin {
  from: string;
  seq: number;
  head: ChainHead;
}

type Data = Record<string, unknown>;

/**
 * Offline check of cross-checkpoints (PROTOCOL §9). Feed every event with `observe`; `check` then
 * verifies each `audit.cross_checkpointed` event's JWS (trusted key, typ, claims equal to the
 * event's `heads`), and that every pinned head still exists in its chain with the same hash.
 * `lastSeq` is the last stored seq of each chain (0 or absent: the chain is gone).
 */
export function createCrossCheckpointCheck(keys: VerificationKeys) {
  const pins: Pin[] = [];
  const faults: CrossCheckpointFault[] = [];
  return {
    observe(records: readonly AuditRecord[]): void {
      for (const record of records) if (record.type === CROSS_CHECKPOINT_EVENT) pins.push(...pinsOf(record, keys, faults));
    },
    async check(sink: Pick<AuditSink, 'read'>, lastSeq: ReadonlyMap<string, number>): Promise<CrossCheckpointFault[]> {
      for (const [chain, chainPins] of byChain(pins)) faults.push(...(await checkChainPins(sink, chain, chainPins, lastSeq.get(chain) ?? 0)));
      return faults;
    },
  };
}

/** The heads an event pins, once its signature and claims check out; otherwise one fault and no pins. */
function pinsOf(record: AuditRecord, keys: VerificationKeys, faults: CrossCheckpointFault[]): Pin[] {
  const data = record.data as Data;
  const invalid = (why: string): Pin[] => {
    faults.push({ code: 'ERR_AUDIT_CROSS_CHECKPOINT_INVALID', chain: record.chain, seq: record.seq, message: `cross-checkpoint ${why}` });
    return [];
  };
  const verified = typeof data.jws === 'string' ? verifyCompact(data.jws, (kid) => keys.verificationKey(kid)) : null;
  if (!verified) return invalid('signature does not verify with a trusted key');
  if (verified.header.typ !== CROSS_CHECKPOINT_TYP) return invalid(`has typ ${String(verified.header.typ)}`);
  const { chain, heads } = verified.payload;
  if (chain !== record.chain || !isDeepStrictEqual(heads, data.heads)) return invalid('claims differ from the event');
  if (!Array.isArray(heads) || !heads.every(isHead)) return invalid('has malformed heads');
  return heads.map((head) => ({ from: record.chain, seq: record.seq, head }));
}

function isHead(value: unknown): value is ChainHead {
  const head = value as Partial<ChainHead> | null;
  return typeof head === 'object' && head !== null && typeof head.chain === 'string' && typeof head.hash === 'string' && Number.isSafeInteger(head.seq) && head.seq! >= 1;
}

function byChain(pins: readonly Pin[]): Map<string, Pin[]> {
  const grouped = new Map<string, Pin[]>();
  for (const pin of pins) grouped.set(pin.head.chain, [...(grouped.get(pin.head.chain) ?? []), pin]);
  return grouped;
}

/**
 * A chain shorter than its newest pin is one fault (like a lagging external checkpoint); every
 * pin inside the chain must name the stored event's hash.
 */
async function checkChainPins(sink: Pick<AuditSink, 'read'>, chain: string, pins: Pin[], lastSeq: number): Promise<CrossCheckpointFault[]> {
  const faults: CrossCheckpointFault[] = [];
  const newest = pins.reduce((a, b) => (b.head.seq > a.head.seq ? b : a));
  if (newest.head.seq > lastSeq)
    faults.push({ code: 'ERR_AUDIT_CROSS_CHECKPOINT_TRUNCATED', chain, seq: newest.head.seq, message: `cross-checkpoint ${newest.from}:${newest.seq} pins seq ${newest.head.seq} but the last stored event is at seq ${lastSeq}` });
  const hashes = new Map<number, string | undefined>();
  for (const pin of pins.filter((p) => p.head.seq <= lastSeq)) {
    if (!hashes.has(pin.head.seq)) hashes.set(pin.head.seq, (await readOne(sink, chain, pin.head.seq))?.hash);
    if (hashes.get(pin.head.seq) !== pin.head.hash)
      faults.push({ code: 'ERR_AUDIT_CROSS_CHECKPOINT_MISMATCH', chain, seq: pin.head.seq, message: `stored event differs from the head pinned by cross-checkpoint ${pin.from}:${pin.seq}` });
  }
  return faults;
}

/** The event at `seq`; undefined when it is missing or unreadable (the chain scan reports why). */
async function readOne(sink: Pick<AuditSink, 'read'>, chain: string, seq: number): Promise<AuditRecord | undefined> {
  try {
    const [record] = await sink.read(chain, seq, 1);
    return record?.seq === seq ? record : undefined;
  } catch {
    return undefined;
  }
}
