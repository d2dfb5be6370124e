import { hashedContent, type AuditRecord } from '../core/audit-chain.ts';
import { MandateError } from '../core/errors.ts';
import type { AuditSink } from '../ports/audit-sink.ts';

/**
 * Audit export, JSON lines: one event per line, exactly the members the chain hash covers plus the
 * hash (the admin API's audit event shape), so a SIEM can re-check the chain. Paging is by time
 * range and an opaque cursor naming the last event returned, in (time, chain, seq) order.
 */
export interface ExportRange {
  /** Inclusive, epoch ms. */
  from: number;
  /** Exclusive, epoch ms. */
  to: number;
  /** From a previous page's `nextCursor`. */
  cursor?: string | null;
  limit: number;
}

export interface ExportPage {
  records: AuditRecord[];
  /** Null on the last page. */
  nextCursor: string | null;
}

interface Position {
  time: number;
  chain: string;
  seq: number;
}

export function toJsonLine(record: AuditRecord): Record<string, unknown> {
  return { ...hashedContent(record), hash: record.hash };
}

export function encodeCursor(record: Pick<AuditRecord, 'time' | 'chain' | 'seq'>): string {
  return Buffer.from(JSON.stringify([record.time, record.chain, record.seq])).toString('base64url');
}

export function decodeCursor(cursor: string): Position {
  try {
    const [time, chain, seq] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown[];
    if (Number.isSafeInteger(time) && typeof chain === 'string' && Number.isSafeInteger(seq)) return { time: time as number, chain, seq: seq as number };
  } catch {
    // falls through to the error below
  }
  throw new MandateError('ERR_REQUEST_INVALID_PARAMETER', 'cursor is not one this endpoint returned', { parameter: 'cursor' });
}

const after = (r: AuditRecord, p: Position) =>
  r.time > p.time || (r.time === p.time && (r.chain > p.chain || (r.chain === p.chain && r.seq > p.seq)));

/**
 * One page of events with `from` ≤ time < `to`. The sink pages by time only, so events that share
 * the cursor's millisecond are skipped here; the read widens until it has a full page or the range ends.
 */
export async function readExportPage(sink: Pick<AuditSink, 'window'>, range: ExportRange): Promise<ExportPage> {
  const position = range.cursor ? decodeCursor(range.cursor) : null;
  const start = position ? Math.max(range.from, position.time) : range.from;
  for (let batch = range.limit + 1; ; batch *= 2) {
    const read = await sink.window(start, range.to, batch);
    const records = position ? read.filter((r) => after(r, position)) : read;
    if (records.length > range.limit) {
      const page = records.slice(0, range.limit);
      return { records: page, nextCursor: encodeCursor(page.at(-1)!) };
    }
    if (read.length < batch) return { records, nextCursor: null };
  }
}

/** Every event of the range, page by page (the CLI's export). */
export async function* readAll(sink: Pick<AuditSink, 'window'>, from: number, to: number, pageSize = 1000): AsyncGenerator<AuditRecord> {
  let cursor: string | null = null;
  do {
    const page: ExportPage = await readExportPage(sink, { from, to, cursor, limit: pageSize });
    yield* page.records;
    cursor = page.nextCursor;
  } while (cursor !== null);
}
