// Differential fuzzing of the strict JWS module (packages/sdk/src/jws) against jose's compactVerify.
// Inputs are built from a seed: a header and a payload (as objects, then as text with mutations),
// each segment encoded (canonically or not), the signing input signed for real with a chosen key,
// the signature mangled or not, and the token mutated or not. Signing the mutated text is what
// makes parser leniency observable: a lenient parser then reaches the signature check and passes.
import fc from 'fast-check';
import { base64url, compactVerify } from 'jose';
import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { JwsError, MAX_JWS_LENGTH, parseJws, verifyJwsSignature } from '../../src/jws/index.ts';

const KEY_NAMES = ['p256', 'ed25519', 'p256Other', 'p384', 'secp256k1', 'ed448'] as const;
type KeyName = (typeof KEY_NAMES)[number];

const KEYS: Record<KeyName, { privateKey: KeyObject; publicKey: KeyObject }> = {
  p256: generateKeyPairSync('ec', { namedCurve: 'P-256' }),
  ed25519: generateKeyPairSync('ed25519'),
  p256Other: generateKeyPairSync('ec', { namedCurve: 'P-256' }),
  p384: generateKeyPairSync('ec', { namedCurve: 'P-384' }),
  secp256k1: generateKeyPairSync('ec', { namedCurve: 'secp256k1' }),
  ed448: generateKeyPairSync('ed448'),
};
const P256_ORDER = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/**
 * Where the strict module may refuse what jose accepts, on purpose. Stricter only: the fuzz fails
 * if the module ever accepts a token jose rejects, or refuses one jose accepts for none of these.
 */
export const DOCUMENTED_DIFFERENCES = {
  tooLong: `longer than MAX_JWS_LENGTH (${MAX_JWS_LENGTH}) characters; jose has no limit`,
  nonCanonicalBase64url: 'a segment with padding, whitespace, another alphabet or non-zero trailing bits (RFC 7515 §2); jose decodes leniently (atob)',
  duplicateMember: 'a member name twice in the header or payload (RFC 7515 §5.2 allows refusing); jose keeps the last one (JSON.parse)',
  critOrB64: 'any crit or b64 header (no extension is understood, RFC 7515 §4.1.11, RFC 7797); jose accepts crit ["b64"] and b64 outside crit',
  headerBom: 'a byte-order mark before the header JSON (RFC 8259 §8.1); jose’s TextDecoder strips it',
  payloadNotJsonObject: 'a payload that is not a strict UTF-8 JSON object; compactVerify does not read the payload (the module parses JWTs)',
} as const;
export type Difference = keyof typeof DOCUMENTED_DIFFERENCES;

const TEXT_MUTATIONS = ['plain', 'duplicate', 'nestedDuplicate', 'whitespace', 'bom', 'invalidUtf8', 'truncated', 'huge', 'big', 'empty'] as const;
const SEGMENT_ENCODINGS = ['canonical', 'padding', 'whitespace', 'standardAlphabet', 'trailingBits', 'invalidChar', 'raw'] as const;
const SIGNATURE_MODES = ['valid', 'highS', 'der', 'zero', 'random', 'truncated', 'extended', 'bitflip', 'empty'] as const;
const TOKEN_MUTATIONS = ['none', 'extraSegment', 'dropSignature', 'trailingNewline', 'leadingSpace'] as const;

export interface FuzzCase {
  verifyKey: KeyName;
  signKey: KeyName | 'same';
  header: Record<string, unknown>;
  payload: unknown;
  headerText: (typeof TEXT_MUTATIONS)[number];
  payloadText: (typeof TEXT_MUTATIONS)[number];
  headerEncoding: (typeof SEGMENT_ENCODINGS)[number];
  payloadEncoding: (typeof SEGMENT_ENCODINGS)[number];
  signatureEncoding: (typeof SEGMENT_ENCODINGS)[number];
  signatureMode: (typeof SIGNATURE_MODES)[number];
  random: Uint8Array;
  position: number;
  tokenMutation: (typeof TOKEN_MUTATIONS)[number];
}

const weighted = <T>(common: fc.Arbitrary<T>, rare: fc.Arbitrary<T>, commonWeight = 8) =>
  fc.oneof({ weight: commonWeight, arbitrary: common }, { weight: 1, arbitrary: rare });
const optional = <T>(rare: fc.Arbitrary<T>, commonWeight = 8) => weighted<T | undefined>(fc.constant(undefined), rare, commonWeight);

const headerArb = fc.record({
  alg: fc.oneof(
    { weight: 12, arbitrary: fc.constant('auto') },
    { weight: 2, arbitrary: fc.constantFrom('ES256', 'EdDSA', 'none', 'HS256', 'RS256', 'ES384', 'ES512', 'Ed25519', 'PS256', 'es256', 'ES256 ', '') },
    { weight: 1, arbitrary: fc.constantFrom<unknown>(undefined, null, 256, ['ES256'], {}) },
  ),
  typ: optional(fc.constantFrom<unknown>('JWT', 'at+jwt', 'dpop+jwt', 'application/at+jwt', 7), 2),
  kid: optional(fc.oneof(fc.constant('k1'), fc.string({ maxLength: 20 })), 2),
  crit: optional(fc.constantFrom<unknown>(['b64'], ['exp'], [], 'b64', [''], ['b64', 'b64'], null), 10),
  b64: optional(fc.constantFrom<unknown>(true, false, 'false', 0), 10),
  extra: fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 }),
});

const payloadArb = fc.oneof(
  { weight: 6, arbitrary: fc.record({ iss: fc.constant('http://localhost:7420'), sub: fc.string({ maxLength: 12 }), exp: fc.integer(), act: fc.option(fc.record({ sub: fc.string({ maxLength: 8 }) })) }) },
  { weight: 2, arbitrary: fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 5 }) },
  { weight: 1, arbitrary: fc.oneof(fc.array(fc.jsonValue({ maxDepth: 1 }), { maxLength: 3 }), fc.string({ maxLength: 8 }), fc.integer(), fc.constant(null)) },
);

/**
 * The arbitrary of fuzz cases; most are well-formed so that the accept path is well covered.
 *
 * @example
 * ```ts
 * fc.sample(fuzzCaseArb, 1);
 * ```
 */
export const fuzzCaseArb: fc.Arbitrary<FuzzCase> = fc.record({
  verifyKey: fc.oneof({ weight: 5, arbitrary: fc.constantFrom<KeyName>('p256', 'ed25519') }, { weight: 2, arbitrary: fc.constantFrom<KeyName>('p256Other', 'p384', 'secp256k1', 'ed448') }),
  signKey: weighted<KeyName | 'same'>(fc.constant('same'), fc.constantFrom(...KEY_NAMES), 10),
  header: headerArb.map(({ extra, ...named }) => ({ ...extra, ...Object.fromEntries(Object.entries(named).filter(([, v]) => v !== undefined)) })),
  payload: payloadArb,
  headerText: weighted(fc.constant('plain' as const), fc.constantFrom(...TEXT_MUTATIONS), 6),
  payloadText: weighted(fc.constant('plain' as const), fc.constantFrom(...TEXT_MUTATIONS), 6),
  headerEncoding: weighted(fc.constant('canonical' as const), fc.constantFrom(...SEGMENT_ENCODINGS), 10),
  payloadEncoding: weighted(fc.constant('canonical' as const), fc.constantFrom(...SEGMENT_ENCODINGS), 10),
  signatureEncoding: weighted(fc.constant('canonical' as const), fc.constantFrom(...SEGMENT_ENCODINGS), 10),
  signatureMode: weighted(fc.constant('valid' as const), fc.constantFrom(...SIGNATURE_MODES), 6),
  random: fc.uint8Array({ maxLength: 100 }),
  position: fc.nat(),
  tokenMutation: weighted(fc.constant('none' as const), fc.constantFrom(...TOKEN_MUTATIONS), 12),
});

export interface BuiltCase {
  token: string;
  key: KeyObject;
  /** Duplicate member names were written into the header or payload text. */
  duplicated: boolean;
}

/** Turns a case into a token and the key both verifiers get. */
export function buildCase(c: FuzzCase): BuiltCase {
  const signer = KEYS[c.signKey === 'same' ? c.verifyKey : c.signKey].privateKey;
  const alg = signer.asymmetricKeyType === 'ec' ? 'ES256' : 'EdDSA';
  const header = c.header.alg === 'auto' ? { ...c.header, alg } : c.header;
  const h = mutateText(JSON.stringify(header), c.headerText, c.position);
  const p = mutateText(JSON.stringify(c.payload) ?? 'null', c.payloadText, c.position);
  const input = `${encode(h.bytes, c.headerEncoding, c.position)}.${encode(p.bytes, c.payloadEncoding, c.position)}`;
  const signature = encode(signatureBytes(input, signer, c), c.signatureEncoding, c.position);
  return { token: mutateToken(`${input}.${signature}`, c.tokenMutation), key: KEYS[c.verifyKey].publicKey, duplicated: h.duplicated || p.duplicated };
}

function mutateText(text: string, how: FuzzCase['headerText'], position: number): { bytes: Buffer; duplicated: boolean } {
  const object = text.startsWith('{');
  const comma = text === '{}' ? '' : ',';
  const at = position % (text.length + 1);
  switch (how) {
    case 'duplicate':
      return object ? { bytes: Buffer.from(`{"alg":"none","alg":"none"${comma}${text.slice(1)}`), duplicated: true } : plain(text);
    case 'nestedDuplicate':
      return object ? { bytes: Buffer.from(`{"n":{"a":[1,{"b":1,"b":2}]}${comma}${text.slice(1)}`), duplicated: true } : plain(text);
    case 'whitespace':
      return plain(` \n\t${text}\r\n `);
    case 'bom':
      return plain(`\uFEFF${text}`);
    case 'invalidUtf8':
      return { bytes: Buffer.concat([Buffer.from(text.slice(0, at)), Buffer.from([0xff]), Buffer.from(text.slice(at))]), duplicated: false };
    case 'truncated':
      return plain(text.slice(0, -1));
    case 'huge':
      return object ? plain(`{"huge":"${'x'.repeat(MAX_JWS_LENGTH)}"${comma}${text.slice(1)}`) : plain(text);
    case 'big':
      return object ? plain(`{"big":"${'y'.repeat(8_000)}"${comma}${text.slice(1)}`) : plain(text);
    case 'empty':
      return plain('');
    default:
      return plain(text);
  }
}

const plain = (text: string) => ({ bytes: Buffer.from(text), duplicated: false });

function encode(bytes: Buffer, how: FuzzCase['headerEncoding'], position: number): string {
  const canonical = bytes.toString('base64url');
  const at = position % (canonical.length + 1);
  switch (how) {
    case 'padding':
      return canonical + '='.repeat((4 - (canonical.length % 4)) % 4);
    case 'whitespace':
      return `${canonical.slice(0, at)}${position % 2 ? ' ' : '\n'}${canonical.slice(at)}`;
    case 'standardAlphabet':
      return bytes.toString('base64').replace(/=+$/, '');
    case 'trailingBits': {
      const last = canonical.at(-1);
      return last === undefined || canonical.length % 4 === 0 ? canonical : canonical.slice(0, -1) + ALPHABET[ALPHABET.indexOf(last) | 1];
    }
    case 'invalidChar':
      return `${canonical.slice(0, at)}!${canonical.slice(at)}`;
    case 'raw':
      return bytes.toString('latin1');
    default:
      return canonical;
  }
}

function signatureBytes(input: string, key: KeyObject, c: FuzzCase): Buffer {
  const data = Buffer.from(input, 'latin1');
  const ec = key.asymmetricKeyType === 'ec';
  const valid = ec ? sign('sha256', data, { key, dsaEncoding: 'ieee-p1363' }) : sign(null, data, key);
  switch (c.signatureMode) {
    case 'highS':
      return ec && key.asymmetricKeyDetails?.namedCurve === 'prime256v1' ? highS(valid) : valid;
    case 'der':
      return ec ? sign('sha256', data, key) : valid;
    case 'zero':
      return Buffer.alloc(64);
    case 'random':
      return Buffer.from(c.random);
    case 'truncated':
      return valid.subarray(0, -1);
    case 'extended':
      return Buffer.concat([valid, Buffer.from([0])]);
    case 'bitflip': {
      const flipped = Buffer.from(valid);
      flipped[c.position % flipped.length]! ^= 1 << c.position % 8;
      return flipped;
    }
    case 'empty':
      return Buffer.alloc(0);
    default:
      return valid;
  }
}

/** ECDSA malleability: (r, n − s) verifies too; neither verifier normalizes to low S. */
function highS(signature: Buffer): Buffer {
  const s = BigInt(`0x${signature.subarray(32).toString('hex')}`);
  return Buffer.concat([signature.subarray(0, 32), Buffer.from((P256_ORDER - s).toString(16).padStart(64, '0'), 'hex')]);
}

function mutateToken(token: string, how: FuzzCase['tokenMutation']): string {
  switch (how) {
    case 'extraSegment':
      return `${token}.e30`;
    case 'dropSignature':
      return token.slice(0, token.lastIndexOf('.'));
    case 'trailingNewline':
      return `${token}\n`;
    case 'leadingSpace':
      return ` ${token}`;
    default:
      return token;
  }
}

/** The strict module's decision; anything but a JwsError is a bug and propagates. */
export function strictAccepts(token: string, key: KeyObject): boolean {
  try {
    verifyJwsSignature(parseJws(token), key);
    return true;
  } catch (error) {
    if (error instanceof JwsError) return false;
    throw error;
  }
}

/** jose's decision with the same allow-list and key. */
export async function joseAccepts(token: string, key: KeyObject): Promise<boolean> {
  try {
    await compactVerify(token, key, { algorithms: ['ES256', 'EdDSA'] });
    return true;
  } catch {
    return false;
  }
}

/**
 * Which documented differences a token shows, computed from the token alone (with jose's own
 * base64url decoder for the lenient view) plus the generator's record of duplicates.
 */
export function differencesOf(built: BuiltCase): Difference[] {
  const { token } = built;
  const found: Difference[] = [];
  if (token.length > MAX_JWS_LENGTH) found.push('tooLong');
  const segments = token.split('.');
  if (segments.some((segment) => !isCanonicalBase64url(segment))) found.push('nonCanonicalBase64url');
  if (built.duplicated) found.push('duplicateMember');
  const headerBytes = lenientDecode(segments[0] ?? '');
  const header = headerBytes ? parseLenient(headerBytes) : undefined;
  if (header && (Object.hasOwn(header, 'crit') || Object.hasOwn(header, 'b64'))) found.push('critOrB64');
  if (headerBytes && headerBytes[0] === 0xef && headerBytes[1] === 0xbb && headerBytes[2] === 0xbf) found.push('headerBom');
  const payloadBytes = lenientDecode(segments[1] ?? '');
  if (!payloadBytes || !isStrictJsonObject(payloadBytes)) found.push('payloadNotJsonObject');
  return found;
}

/** Canonical per RFC 7515 §2, checked here without re-encoding: alphabet, length, zero spare bits. */
function isCanonicalBase64url(segment: string): boolean {
  if (!/^[A-Za-z0-9_-]*$/.test(segment) || segment.length % 4 === 1) return false;
  const last = ALPHABET.indexOf(segment.at(-1) ?? 'A');
  return segment.length % 4 === 2 ? last % 16 === 0 : segment.length % 4 === 3 ? last % 4 === 0 : true;
}

function lenientDecode(segment: string): Uint8Array | undefined {
  try {
    return base64url.decode(segment);
  } catch {
    return undefined;
  }
}

function parseLenient(bytes: Uint8Array): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function isStrictJsonObject(bytes: Uint8Array): boolean {
  try {
    const value: unknown = JSON.parse(new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes));
    return typeof value === 'object' && value !== null && !Array.isArray(value);
  } catch {
    return false;
  }
}

export interface DifferentialTally {
  runs: number;
  bothAccept: number;
  bothReject: number;
  strictOnlyRejects: number;
  byDifference: Record<Difference, number>;
}

/**
 * Runs `numRuns` seeded cases through both verifiers. Fails (throws, with fast-check's shrunk
 * counterexample) when the strict module accepts what jose rejects, or rejects what jose accepts
 * without a documented difference. Returns the tally.
 *
 * @example
 * ```ts
 * const tally = await runDifferential({ numRuns: 2000, seed: 42 });
 * ```
 */
export async function runDifferential(options: { numRuns: number; seed: number }): Promise<DifferentialTally> {
  const tally: DifferentialTally = { runs: 0, bothAccept: 0, bothReject: 0, strictOnlyRejects: 0, byDifference: { tooLong: 0, nonCanonicalBase64url: 0, duplicateMember: 0, critOrB64: 0, headerBom: 0, payloadNotJsonObject: 0 } };
  // Counted inside the property: on success fast-check runs it exactly numRuns times (shrinking only follows a failure).
  const property = fc.asyncProperty(fuzzCaseArb, async (c) => {
    const built = buildCase(c);
    const strict = strictAccepts(built.token, built.key);
    const lenient = await joseAccepts(built.token, built.key);
    tally.runs++;
    if (strict && !lenient) throw new Error('the strict module accepted a token jose rejects');
    if (strict === lenient) {
      tally[strict ? 'bothAccept' : 'bothReject']++;
      return;
    }
    const differences = differencesOf(built);
    if (differences.length === 0) throw new Error('the strict module rejected a token jose accepts, for no documented difference');
    tally.strictOnlyRejects++;
    for (const d of differences) tally.byDifference[d]++;
  });
  await fc.assert(property, { numRuns: options.numRuns, seed: options.seed });
  return tally;
}
