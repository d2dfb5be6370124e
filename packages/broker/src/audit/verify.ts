import { open, type FileHandle } from 'node:fs/promises';
import { JWT_TYP } from '@mandate/sdk/protocol';
import { checkChain, type AuditRecord, type ChainFault, type ChainHashing, type ChainHead } from '../core/audit-chain.ts';
import { verifyCompact } from '../keys/jws.ts';
import type { AuditSink } from '../ports/audit-sink.ts';
import type { VerificationKeys } from './verification-keys.ts';
import { createPasskeyProofCheck, type PasskeyProofFaultCode } from './passkey-proofs.ts';
import { createCrossCheckpointCheck, type CrossCheckpointFaultCode } from './cross-checkpoint-check.ts';

/** Stable codes of `mandate audit verify`, one per check. */
export type AuditFaultCode =
  | ChainFault['code']
  | 'ERR_AUDIT_UNREADABLE'
  | 'ERR_AUDIT_HEAD_MISSING'
  | 'ERR_AUDIT_HEAD_SIGNATURE'
  | 'ERR_AUDIT_HEAD_TYP'
  | 'ERR_AUDIT_HEAD_MISMATCH'
  | 'ERR_AUDIT_UNSEALED'
  | 'ERR_AUDIT_TRUNCATED'
  | 'ERR_AUDIT_CHECKPOINT_MISSING'
  | 'ERR_AUDIT_CHECKPOINT_INVALID'
  | 'ERR_AUDIT_CHECKPOINT_TYP'
  | 'ERR_AUDIT_CHECKPOINT_MISMATCH'
  | PasskeyProofFaultCode
  | CrossCheckpointFaultCode;

export interface AuditFault {
  code: AuditFaultCode;
  /** `*` when the fault cannot be attributed to a chain (an unverifiable checkpoint line). */
  chain: string;
  seq?: number;
  message: string;
}

export interface ChainSummary {
  chain: string;
  events: number;
  /** 0 for a chain without events. */
  lastSeq: number;
  /** Seq of the newest valid external checkpoint, null when there is none. */
  checkpointSeq: number | null;
}

export interface AuditReport {
  ok: boolean;
  chains: ChainSummary[];
  faults: AuditFault[];
}

export interface VerifyAuditOptions {
  sink: Pick<AuditSink, 'chains' | 'head' | 'read'>;
  keys: VerificationKeys;
  checkpointFile: string;
  hashing: ChainHashing;
  pageSize?: number;
}

/** What one pass over a chain's events found. */
interface ChainScan {
  events: number;
  last: ChainHead | null;
  /** Hash of the stored event at the checkpoint's seq, if there is one. */
  hashAtCheckpoint: string | undefined;
  /** False when a page could not be read. */
  complete: boolean;
}

/**
 * PROTOCOL §9: checks every chain (gap-free seq, links, hashes), its sealed head, the external
 * checkpoints, and the cross-checkpoints replicas write into their chains about each other's.
 * Tampered data never throws: each finding is a fault. Throws only when the checkpoint file
 * exists but cannot be read.
 *
 * @example
 * const report = await verifyAudit({ sink: store.audit, keys, checkpointFile, hashing: nodeChainHashing });
 * if (!report.ok) for (const f of report.faults) console.log(f.code, f.chain, f.seq, f.message);
 */
export async function verifyAudit(options: VerifyAuditOptions): Promise<AuditReport> {
  const faults: AuditFault[] = [];
  const checkpoints = await readCheckpoints(options, faults);
  const names = new Set([...(await options.sink.chains()), ...(checkpoints?.keys() ?? [])]);
  const chains: ChainSummary[] = [];
  const passkeys = createPasskeyProofCheck();
  const cross = createCrossCheckpointCheck(options.keys);
  const observe = (page: AuditRecord[]) => {
    passkeys.observe(page);
    cross.observe(page);
  };
  for (const chain of [...names].sort()) {
    const checkpoint = checkpoints?.get(chain) ?? null;
    const scan = await scanChain(options, chain, checkpoint?.seq, faults, observe);
    // An unreadable page leaves the end of the chain unknown: comparing heads with it would only add noise.
    if (scan.complete) {
      await checkHead(options, chain, scan.last, faults);
      checkCheckpoint(chain, scan, checkpoint, checkpoints !== null, faults);
    }
    chains.push({ chain, events: scan.events, lastSeq: scan.last?.seq ?? 0, checkpointSeq: checkpoint?.seq ?? null });
  }
  // PROTOCOL §4: passkey approvals and resumptions are re-checked against the registered keys.
  faults.push(...(await passkeys.check()));
  // PROTOCOL §9: every head a replica pinned in its chain must still be in the other chain, unchanged.
  faults.push(...(await cross.check(options.sink, new Map(chains.map((c) => [c.chain, c.lastSeq])))));
  return { ok: faults.length === 0, chains, faults };
}

/** Pages through the chain, running the core chain check across page boundaries. */
async function scanChain(options: VerifyAuditOptions, chain: string, checkpointSeq: number | undefined, faults: AuditFault[], observe: (page: AuditRecord[]) => void): Promise<ChainScan> {
  const scan: ChainScan = { events: 0, last: null, hashAtCheckpoint: undefined, complete: true };
  let previous: AuditRecord | null = null;
  for (;;) {
    const page = await readPage(options, chain, (previous?.seq ?? 0) + 1, faults);
    if (page === null) return { ...scan, complete: false };
    if (page.length === 0) return scan;
    for (const fault of checkPage(previous, page, options.hashing)) faults.push({ code: fault.code, chain, seq: fault.seq, message: chainFaultMessage(fault) });
    observe(page);
    scan.events += page.length;
    scan.hashAtCheckpoint = page.find((r) => r.seq === checkpointSeq)?.hash ?? scan.hashAtCheckpoint;
    previous = page[page.length - 1]!;
    scan.last = { chain, seq: previous.seq, hash: previous.hash };
  }
}

async function readPage(options: VerifyAuditOptions, chain: string, fromSeq: number, faults: AuditFault[]): Promise<AuditRecord[] | null> {
  try {
    return await options.sink.read(chain, fromSeq, options.pageSize ?? 1000);
  } catch (error) {
    // A row the adapter cannot decode (e.g. `data` that is no longer JSON) is tampering too.
    faults.push({ code: 'ERR_AUDIT_UNREADABLE', chain, seq: fromSeq, message: `events from seq ${fromSeq} cannot be read: ${(error as Error).message}` });
    return null;
  }
}

function checkPage(previous: AuditRecord | null, page: AuditRecord[], hashing: ChainHashing): ChainFault[] {
  return checkChain(page, hashing, previous);
}

function chainFaultMessage(fault: ChainFault): string {
  switch (fault.code) {
    case 'ERR_AUDIT_SEQ_GAP':
      return `expected seq ${fault.expected}, found ${fault.seq}`;
    case 'ERR_AUDIT_PREV_MISMATCH':
      return 'prev_hash does not match the hash of the preceding event';
    case 'ERR_AUDIT_HASH_MISMATCH':
      return 'stored hash does not match the event content';
  }
}

/** The stored head must be a valid seal of exactly the last stored event. */
async function checkHead(options: VerifyAuditOptions, chain: string, last: ChainHead | null, faults: AuditFault[]): Promise<void> {
  const fault = (code: AuditFaultCode, message: string, seq?: number) => faults.push({ code, chain, message, ...(seq === undefined ? {} : { seq }) });
  const head = await options.sink.head(chain);
  if (!head) {
    if (last) fault('ERR_AUDIT_HEAD_MISSING', 'events exist but the chain has no sealed head', last.seq);
    return;
  }
  const verified = verifyCompact(head.jws, (kid) => options.keys.verificationKey(kid));
  if (!verified) return void fault('ERR_AUDIT_HEAD_SIGNATURE', 'sealed head signature does not verify with a trusted key', head.seq);
  if (verified.header.typ !== JWT_TYP.auditHead) return void fault('ERR_AUDIT_HEAD_TYP', `sealed head has typ ${String(verified.header.typ)}`, head.seq);
  const sealed = verified.payload;
  if (sealed.chain !== chain || sealed.seq !== head.seq || sealed.hash !== head.hash)
    return void fault('ERR_AUDIT_HEAD_MISMATCH', 'head row differs from its signed content', head.seq);
  const lastSeq = last?.seq ?? 0;
  if (head.seq > lastSeq) fault('ERR_AUDIT_TRUNCATED', `sealed head is at seq ${head.seq} but the last event is at seq ${lastSeq}`, head.seq);
  else if (head.seq < lastSeq) fault('ERR_AUDIT_UNSEALED', `events after seq ${head.seq} are not covered by the sealed head`, lastSeq);
  else if (head.hash !== last?.hash) fault('ERR_AUDIT_HEAD_MISMATCH', 'sealed head hash differs from the last event', head.seq);
}

/** The newest external checkpoint must name a stored event with the same hash. */
function checkCheckpoint(chain: string, scan: ChainScan, checkpoint: ChainHead | null, fileExists: boolean, faults: AuditFault[]): void {
  if (!checkpoint) {
    const message = fileExists ? 'no external checkpoint for this chain' : 'the external checkpoint file is missing';
    if (scan.last) faults.push({ code: 'ERR_AUDIT_CHECKPOINT_MISSING', chain, message });
    return;
  }
  const lastSeq = scan.last?.seq ?? 0;
  if (checkpoint.seq > lastSeq)
    faults.push({ code: 'ERR_AUDIT_TRUNCATED', chain, seq: checkpoint.seq, message: `external checkpoint is at seq ${checkpoint.seq} but the last stored event is at seq ${lastSeq}` });
  else if (scan.hashAtCheckpoint !== checkpoint.hash)
    faults.push({ code: 'ERR_AUDIT_CHECKPOINT_MISMATCH', chain, seq: checkpoint.seq, message: 'stored event differs from the external checkpoint' });
}

/** The newest valid checkpoint per chain; null when the file does not exist. Streamed: the file grows with every commit. */
async function readCheckpoints(options: VerifyAuditOptions, faults: AuditFault[]): Promise<Map<string, ChainHead> | null> {
  const file = await openOptional(options.checkpointFile);
  if (!file) return null;
  const newest = new Map<string, ChainHead>();
  let lineNumber = 0;
  try {
    for await (const line of file.readLines({ encoding: 'utf8' })) {
      lineNumber += 1;
      if (line.trim() === '') continue;
      const checkpoint = parseCheckpoint(line.trim(), lineNumber, options.keys, faults);
      if (checkpoint && checkpoint.seq > (newest.get(checkpoint.chain)?.seq ?? 0)) newest.set(checkpoint.chain, checkpoint);
    }
  } finally {
    await file.close();
  }
  return newest;
}

function parseCheckpoint(line: string, lineNumber: number, keys: VerificationKeys, faults: AuditFault[]): ChainHead | null {
  const verified = verifyCompact(line, (kid) => keys.verificationKey(kid));
  if (!verified) {
    faults.push({ code: 'ERR_AUDIT_CHECKPOINT_INVALID', chain: '*', message: `checkpoint line ${lineNumber} does not verify with a trusted key` });
    return null;
  }
  const { chain, seq, hash } = verified.payload;
  if (typeof chain !== 'string' || typeof hash !== 'string' || !Number.isSafeInteger(seq) || (seq as number) < 1) {
    faults.push({ code: 'ERR_AUDIT_CHECKPOINT_INVALID', chain: '*', message: `checkpoint line ${lineNumber} has malformed claims` });
    return null;
  }
  if (verified.header.typ !== JWT_TYP.auditHead) {
    faults.push({ code: 'ERR_AUDIT_CHECKPOINT_TYP', chain, seq: seq as number, message: `checkpoint line ${lineNumber} has typ ${String(verified.header.typ)}` });
    return null;
  }
  return { chain, seq: seq as number, hash };
}

async function openOptional(path: string): Promise<FileHandle | null> {
  try {
    return await open(path, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}
