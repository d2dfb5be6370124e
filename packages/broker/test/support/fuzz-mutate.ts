import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import fc from 'fast-check';

/**
 * Mutation fuzzing: take a valid input (a real token, form, evidence) and change one thing. Each
 * mutation is a plain recipe (printed by fast-check on failure, so a failing input can be read)
 * applied to a base produced at run time (tokens are signed fresh, with fresh `jti`s).
 */

/** Characters that break parsers: separators, escapes, quotes, controls, non-ASCII, surrogates. */
const NASTY_CHARS = ['.', '=', '&', '%', '+', '"', '\\', '{', '}', '[', ']', ',', ':', '\0', '\n', '\r', ' ', '\t', '/', '?', '#', 'é', '\u2028', '\ud800', '\uffff', '😀', '%00', '%zz', '%C3%28', '_', '-', 'A', '~'];

const piece = fc.oneof(fc.constantFrom(...NASTY_CHARS), fc.string({ maxLength: 8 }), fc.string({ unit: 'binary', maxLength: 4 }));

export type StringMutation =
  | { kind: 'replace'; at: number; text: string }
  | { kind: 'insert'; at: number; text: string }
  | { kind: 'delete'; at: number; length: number }
  | { kind: 'truncate'; at: number }
  | { kind: 'duplicate'; at: number; length: number }
  | { kind: 'swap-case'; at: number }
  | { kind: 'repeat'; times: number }
  | { kind: 'wrap'; before: string; after: string };

/** One change to a string; `at` is a fraction of the length so one recipe fits any base. */
export const stringMutation: fc.Arbitrary<StringMutation> = fc.oneof(
  fc.record({ kind: fc.constant('replace' as const), at: fc.nat(), text: piece }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), text: piece }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 64 }) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('duplicate' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 64 }) }),
  fc.record({ kind: fc.constant('swap-case' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('repeat' as const), times: fc.integer({ min: 2, max: 40 }) }),
  fc.record({ kind: fc.constant('wrap' as const), before: piece, after: piece }),
);

export function applyStringMutation(m: StringMutation, base: string): string {
  const at = 'at' in m ? m.at % (base.length + 1) : 0;
  switch (m.kind) {
    case 'replace':
      return base.slice(0, at) + m.text + base.slice(at + 1);
    case 'insert':
      return base.slice(0, at) + m.text + base.slice(at);
    case 'delete':
      return base.slice(0, at) + base.slice(at + m.length);
    case 'truncate':
      return base.slice(0, at);
    case 'duplicate':
      return base.slice(0, at + m.length) + base.slice(at);
    case 'swap-case': {
      const c = base.charAt(at);
      return base.slice(0, at) + (c === c.toUpperCase() ? c.toLowerCase() : c.toUpperCase()) + base.slice(at + 1);
    }
    case 'repeat':
      return base.repeat(m.times);
    case 'wrap':
      return m.before + base + m.after;
  }
}

/** One to three string mutations in a row. */
export const stringMutations = fc.array(stringMutation, { minLength: 1, maxLength: 3 });

export const mutateString = (ms: readonly StringMutation[], base: string): string => ms.reduce((s, m) => applyStringMutation(m, s), base);

export type ByteMutation =
  | { kind: 'flip'; at: number; bit: number }
  | { kind: 'set'; at: number; value: number }
  | { kind: 'insert'; at: number; bytes: Uint8Array }
  | { kind: 'delete'; at: number; length: number }
  | { kind: 'truncate'; at: number }
  | { kind: 'u16'; at: number; value: number };

/** One change to a binary structure: bit flips, boundary values in length fields, cuts and splices. */
export const byteMutation: fc.Arbitrary<ByteMutation> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant('set' as const), at: fc.nat(), value: fc.constantFrom(0, 1, 0x7f, 0x80, 0xff) }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }) }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 16 }) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('u16' as const), at: fc.nat(), value: fc.constantFrom(0, 1, 2, 31, 32, 33, 0x7fff, 0x8000, 0xffff) }),
);

export function applyByteMutation(m: ByteMutation, base: Buffer): Buffer {
  const at = base.length === 0 ? 0 : m.at % base.length;
  const out = Buffer.from(base);
  switch (m.kind) {
    case 'flip':
      if (out.length > 0) out[at]! ^= 1 << m.bit;
      return out;
    case 'set':
      if (out.length > 0) out[at] = m.value;
      return out;
    case 'insert':
      return Buffer.concat([base.subarray(0, at), m.bytes, base.subarray(at)]);
    case 'delete':
      return Buffer.concat([base.subarray(0, at), base.subarray(at + m.length)]);
    case 'truncate':
      return base.subarray(0, at);
    case 'u16':
      if (at + 2 <= out.length) out.writeUInt16BE(m.value, at);
      return out;
  }
}

export const byteMutations = fc.array(byteMutation, { minLength: 1, maxLength: 3 });

export const mutateBytes = (ms: readonly ByteMutation[], base: Buffer): Buffer => ms.reduce((b, m) => applyByteMutation(m, b), base);

/** JSON values that break claim and field checks: wrong types, boundaries, huge, nested, poisoned. */
export const nastyValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(null, true, false, 0, -1, 1, 1.5, -0, 2 ** 53, -(2 ** 53), 1e308, -1e308, 2 ** 31, 2 ** 32, '', ' ', '0', 'null', 'true', '__proto__', 'constructor', '\u0000', '\ud800', 'a'.repeat(300), 'a'.repeat(70_000), [], {}, [[]], [null], { __proto__: null }),
  fc.string({ maxLength: 40 }),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.jsonValue({ maxDepth: 3 }),
  fc.array(fc.string({ maxLength: 10 }), { maxLength: 4 }),
  fc.constant(JSON.parse('{"__proto__":{"polluted":1}}') as unknown),
  fc.nat({ max: 60 }).map((depth) => nest(depth)),
);

function nest(depth: number): unknown {
  let value: unknown = 1;
  for (let i = 0; i < depth; i++) value = i % 2 ? [value] : { a: value };
  return value;
}

export type FieldMutation =
  | { kind: 'set'; path: number; value: unknown }
  | { kind: 'delete'; path: number }
  | { kind: 'add'; name: string; value: unknown }
  | { kind: 'retype'; path: number };

/** One change to one member of a JSON object, at any depth (`path` picks among its member paths). */
export const fieldMutation: fc.Arbitrary<FieldMutation> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('set' as const), path: fc.nat(), value: nastyValue }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('delete' as const), path: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('add' as const), name: fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom('crit', 'jku', 'x5u', 'jwk', 'kid', 'b64', 'nbf', 'cnf', 'act', 'nonce', '__proto__')), value: nastyValue }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('retype' as const), path: fc.nat() }) },
);

/** Member paths of a JSON value, depth first (arrays by index). */
export function memberPaths(value: unknown, prefix: Array<string | number> = []): Array<Array<string | number>> {
  if (typeof value !== 'object' || value === null) return [];
  const entries: Array<[string | number, unknown]> = Array.isArray(value) ? value.map((v, i) => [i, v]) : Object.entries(value);
  return entries.flatMap(([key, child]) => [[...prefix, key], ...memberPaths(child, [...prefix, key])]);
}

/** A deep copy of `base` with the one change applied. */
export function applyFieldMutation<T>(m: FieldMutation, base: T): T {
  const copy = structuredClone(base) as unknown;
  if (m.kind === 'add') {
    if (typeof copy === 'object' && copy !== null && !Array.isArray(copy)) Object.defineProperty(copy, m.name, { value: m.value, enumerable: true, writable: true, configurable: true });
    return copy as T;
  }
  const paths = memberPaths(copy);
  if (paths.length === 0) return copy as T;
  const path = paths[m.path % paths.length]!;
  const parent = path.slice(0, -1).reduce<Record<string | number, unknown>>((node, key) => node[key] as Record<string | number, unknown>, copy as Record<string, unknown>);
  const key = path[path.length - 1]!;
  if (m.kind === 'delete') {
    if (Array.isArray(parent)) parent.splice(Number(key), 1);
    else delete parent[key];
  } else if (m.kind === 'set') parent[key] = m.value;
  else parent[key] = retype(parent[key]);
  return copy as T;
}

/** The same value in another JSON type: "1" for 1, [x] for x, 1 for "1", {} for []. */
function retype(value: unknown): unknown {
  if (typeof value === 'number') return String(value);
  if (typeof value === 'string') return /^-?\d+(\.\d+)?$/.test(value) ? Number(value) : [value];
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (Array.isArray(value)) return value.length === 1 ? value[0] : {};
  if (value === null) return 'null';
  return [value];
}

export const fieldMutations = fc.array(fieldMutation, { minLength: 1, maxLength: 2 });

export const mutateFields = <T>(ms: readonly FieldMutation[], base: T): T => ms.reduce((v, m) => applyFieldMutation(m, v), base);

const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64url');

/**
 * A compact JWS over any header and payload (serialized as given, so mutated members survive),
 * signed for real with `key` (ES256 as IEEE P1363, or Ed25519): a mutation that passes parsing
 * reaches the checks after the signature, which a forged signature would never reach.
 */
export function signCompact(header: unknown, payload: unknown, key: KeyObject): string {
  const input = `${b64(JSON.stringify(header))}.${b64(JSON.stringify(payload))}`;
  const signature = key.asymmetricKeyType === 'ed25519' ? sign(null, Buffer.from(input), key) : sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' });
  return `${input}.${signature.toString('base64url')}`;
}

/** How a valid JWS gets changed: a header member, a payload member (both re-signed), or its text (signature then stale). */
export type JwsMutation =
  | { where: 'header'; fields: FieldMutation[] }
  | { where: 'payload'; fields: FieldMutation[] }
  | { where: 'text'; edits: StringMutation[] }
  | { where: 'none' };

export const jwsMutation: fc.Arbitrary<JwsMutation> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ where: fc.constant('header' as const), fields: fieldMutations }) },
  { weight: 4, arbitrary: fc.record({ where: fc.constant('payload' as const), fields: fieldMutations }) },
  { weight: 3, arbitrary: fc.record({ where: fc.constant('text' as const), edits: stringMutations }) },
  { weight: 1, arbitrary: fc.constant({ where: 'none' as const }) },
);

/**
 * The token `header`/`payload` would give, after the mutation; `tampered` when its text was
 * changed after signing (such a token must never verify).
 */
export function mutatedJws(m: JwsMutation, header: Record<string, unknown>, payload: Record<string, unknown>, key: KeyObject): { token: string; tampered: boolean; valid?: string } {
  if (m.where === 'header') return { token: signCompact(mutateFields(m.fields, header), payload, key), tampered: false };
  if (m.where === 'payload') return { token: signCompact(header, mutateFields(m.fields, payload), key), tampered: false };
  const valid = signCompact(header, payload, key);
  const token = m.where === 'text' ? mutateString(m.edits, valid) : valid;
  return { token, tampered: token !== valid, valid };
}

/** A signing key of the two algorithms Mandate verifies, with its public JWK (public members only). */
export interface SigningKey {
  alg: 'ES256' | 'EdDSA';
  privateKey: KeyObject;
  publicKey: KeyObject;
  publicJwk: { kty: string; crv: string; x: string; y?: string };
}

export function signingKey(alg: 'ES256' | 'EdDSA'): SigningKey {
  const { privateKey, publicKey } = alg === 'ES256' ? generateKeyPairSync('ec', { namedCurve: 'P-256' }) : generateKeyPairSync('ed25519');
  const { kty, crv, x, y } = publicKey.export({ format: 'jwk' });
  return { alg, privateKey, publicKey, publicJwk: (y ? { kty, crv, x, y } : { kty, crv, x }) as SigningKey['publicJwk'] };
}

