import { MandateError } from '../../core/errors.ts';
import { readEcdsaSignature, type EcdsaSignature } from './attest.ts';
import { readEventLog, type ImaEvent } from './event-log.ts';

/**
 * The evidence of `tpm-quote` (README "Evidence"):
 * `{ quote: b64 TPMS_ATTEST, signature: b64 TPMT_SIGNATURE, pcrs: { sha256: { "<n>": hex } }, eventLog?: [...] }`.
 */
export interface QuoteEvidence {
  quote: Buffer;
  signature: EcdsaSignature;
  /** Reported SHA-256 PCR values by index, lower-case hex, ascending by index. */
  pcrs: Map<number, string>;
  eventLog?: ImaEvent[];
}

const MAX_QUOTE_BYTES = 1024;
/** magic (4) and type (2): what verify.ts reads before the full structure. */
const MIN_QUOTE_BYTES = 6;
const MAX_SIGNATURE_BYTES = 256;
const MEMBERS = new Set(['quote', 'signature', 'pcrs', 'eventLog']);
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const PCR_VALUE = /^[0-9a-fA-F]{64}$/;
const PCR_INDEX = /^(?:[0-9]|1[0-9]|2[0-3])$/;

/**
 * Checks the shape and sizes of the evidence; every failure is `ERR_TPM_QUOTE_MALFORMED` with a
 * `reason` naming the member.
 *
 * @example
 * const { quote, signature, pcrs } = readQuoteEvidence(evidence);
 */
export function readQuoteEvidence(evidence: unknown): QuoteEvidence {
  if (!isRecord(evidence)) malformed('shape', 'evidence must be an object { quote, signature, pcrs, eventLog? }');
  if (Object.keys(evidence).some((key) => !MEMBERS.has(key))) malformed('members', 'evidence may only have quote, signature, pcrs and eventLog');
  const quote = decodeBase64(evidence.quote, MAX_QUOTE_BYTES) ?? malformed('quote', 'quote must be base64 of a TPMS_ATTEST');
  if (quote.length < MIN_QUOTE_BYTES) malformed('quote', 'quote is too short for a TPMS_ATTEST');
  const signatureBytes = decodeBase64(evidence.signature, MAX_SIGNATURE_BYTES) ?? malformed('signature', 'signature must be base64 of a TPMT_SIGNATURE');
  const signature = attempt(() => readEcdsaSignature(signatureBytes), 'signature');
  const pcrs = readPcrs(evidence.pcrs) ?? malformed('pcrs', 'pcrs must be { sha256: { "<0–23>": "<64 hex>" } } with at least one PCR');
  const eventLog = evidence.eventLog === undefined ? undefined : attempt(() => readEventLog(evidence.eventLog), 'eventLog');
  return { quote, signature, pcrs, ...(eventLog && { eventLog }) };
}

/** Canonical base64 only, so one quote has one spelling (and one evidence digest). */
function decodeBase64(value: unknown, maxBytes: number): Buffer | undefined {
  if (typeof value !== 'string' || value.length === 0 || value.length > Math.ceil(maxBytes / 3) * 4 || !BASE64.test(value)) return undefined;
  const bytes = Buffer.from(value, 'base64');
  return bytes.toString('base64') === value ? bytes : undefined;
}

function readPcrs(value: unknown): Map<number, string> | undefined {
  if (!isRecord(value) || Object.keys(value).join() !== 'sha256' || !isRecord(value.sha256)) return undefined;
  const entries = Object.entries(value.sha256);
  if (entries.length === 0 || entries.some(([index, hex]) => !PCR_INDEX.test(index) || typeof hex !== 'string' || !PCR_VALUE.test(hex))) return undefined;
  return new Map(entries.map(([index, hex]) => [Number(index), (hex as string).toLowerCase()] as const).sort(([a], [b]) => a - b));
}

function attempt<T>(read: () => T, reason: string): T {
  try {
    return read();
  } catch (error) {
    malformed(reason, error instanceof RangeError ? `${reason}: ${error.message}` : `${reason} is malformed`);
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Also used by verify.ts once the signature is known good and the quote body is read. */
export function malformed(reason: string, message: string): never {
  throw new MandateError('ERR_TPM_QUOTE_MALFORMED', message, { reason });
}
