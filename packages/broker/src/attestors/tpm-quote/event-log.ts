import { createHash } from 'node:crypto';

/**
 * One measurement of an IMA-style event log (README "Event log"): the `ima-ng` template of the
 * Linux Integrity Measurement Architecture, which extends PCR 10.
 */
export interface ImaEvent {
  pcr: 10;
  template: 'ima-ng';
  /** `sha256:<64 lowercase hex>`: the measured file's digest. */
  fileDigest: string;
  /** The measured file's path (IMA's `n-ng` field). */
  name: string;
}

export const MAX_EVENTS = 4096;
const MAX_NAME_BYTES = 4096;
const FILE_DIGEST = /^sha256:[0-9a-f]{64}$/;
const EVENT_KEYS = ['fileDigest', 'name', 'pcr', 'template'];

/**
 * Checks the shape of `eventLog`; throws RangeError on anything unexpected (the verifier maps it
 * to its malformed code). Hex must already be lower-case: the log is hashed, not normalised.
 *
 * @example
 * const events = readEventLog([{ pcr: 10, template: 'ima-ng', fileDigest: 'sha256:…', name: '/usr/bin/agent' }]);
 */
export function readEventLog(value: unknown): ImaEvent[] {
  if (!Array.isArray(value) || value.length === 0 || value.length > MAX_EVENTS) throw new RangeError(`eventLog must be a list of 1 to ${MAX_EVENTS} events`);
  return value.map((event, i) => {
    if (typeof event !== 'object' || event === null || Object.keys(event).sort().join() !== EVENT_KEYS.join()) throw new RangeError(`eventLog[${i}] must have exactly ${EVENT_KEYS.join(', ')}`);
    const { pcr, template, fileDigest, name } = event as Record<string, unknown>;
    if (pcr !== 10 || template !== 'ima-ng') throw new RangeError(`eventLog[${i}] must be an ima-ng event of PCR 10`);
    if (typeof fileDigest !== 'string' || !FILE_DIGEST.test(fileDigest)) throw new RangeError(`eventLog[${i}].fileDigest must be sha256:<64 lowercase hex>`);
    if (typeof name !== 'string' || name.length === 0 || name.includes('\0') || Buffer.byteLength(name) > MAX_NAME_BYTES) throw new RangeError(`eventLog[${i}].name is not a usable path`);
    return { pcr, template, fileDigest, name };
  });
}

/**
 * The `ima-ng` template hash that IMA extends into the SHA-256 bank: SHA-256 of the template data,
 * i.e. of each field prefixed with its 32-bit little-endian length — `d-ng` = "sha256:" ‖ 0x00 ‖
 * digest, `n-ng` = name ‖ 0x00.
 *
 * @example
 * const extend = imaTemplateHash({ pcr: 10, template: 'ima-ng', fileDigest: 'sha256:…', name: '/usr/bin/agent' });
 */
export function imaTemplateHash(event: ImaEvent): Buffer {
  const digestField = Buffer.concat([Buffer.from('sha256:\0'), Buffer.from(event.fileDigest.slice('sha256:'.length), 'hex')]);
  const nameField = Buffer.from(`${event.name}\0`, 'utf8');
  const hash = createHash('sha256');
  for (const field of [digestField, nameField]) hash.update(lengthLe(field.length)).update(field);
  return hash.digest();
}

/** TPM2_PCR_Extend: PCR_new = SHA-256(PCR_old ‖ data), from the all-zero reset value. */
export function replayEventLog(events: readonly ImaEvent[]): Buffer {
  return events.reduce((pcr, event) => createHash('sha256').update(pcr).update(imaTemplateHash(event)).digest(), Buffer.alloc(32));
}

/** The file digest of the last event named `name`: a later load of the same path wins. */
export function lastDigestOf(events: readonly ImaEvent[], name: string): string | undefined {
  for (let i = events.length - 1; i >= 0; i--) if (events[i]!.name === name) return events[i]!.fileDigest;
  return undefined;
}

function lengthLe(length: number): Buffer {
  const bytes = Buffer.alloc(4);
  bytes.writeUInt32LE(length);
  return bytes;
}
