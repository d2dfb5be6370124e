import { JwsError } from './errors.ts';
import { decodeBase64urlStrict, decodeJsonObject } from './json.ts';

/**
 * The algorithms this module verifies: an explicit allow-list (RFC 8725 §3.1). `none`, HMAC and
 * RSA never verify here, so a public key can never be used as an HMAC secret.
 *
 * @example
 * ```ts
 * if (!(ALLOWED_ALGS as readonly string[]).includes(alg)) reject();
 * ```
 */
export const ALLOWED_ALGS = ['ES256', 'EdDSA'] as const;

/**
 * One of `ALLOWED_ALGS`.
 *
 * @example
 * ```ts
 * const alg: AllowedAlg = 'ES256';
 * ```
 */
export type AllowedAlg = (typeof ALLOWED_ALGS)[number];

/**
 * Longest compact JWS accepted, in characters: larger than any token Mandate issues or accepts
 * (access tokens with authorization details, attestation results), small enough to bound the work
 * an unauthenticated input can cause before its signature is checked.
 *
 * @example
 * ```ts
 * if (token.length > MAX_JWS_LENGTH) reject();
 * ```
 */
export const MAX_JWS_LENGTH = 65_536;

/**
 * Decoded headers by segment. Clients repeat one header on every token (an issuer its `kid`, a
 * DPoP client its `jwk`), so decoding it once saves work on the hot path. The entries are frozen
 * (callers share them), bounded in number and size, and hold only what the segment itself says.
 */
const HEADER_CACHE_LIMIT = 512;
const HEADER_CACHE_MAX_SEGMENT = 2_048;
const headerCache = new Map<string, Readonly<Record<string, unknown>>>();

/** Both signature forms are 64 bytes: ES256 is r ‖ s (RFC 7518 §3.4), Ed25519 R ‖ S (RFC 8037 §3.1). */
const SIGNATURE_BYTES = 64;

/**
 * A compact JWS whose protected header is decoded and nothing else: enough to check `typ` or
 * pick a key before the rest is read.
 *
 * @example
 * ```ts
 * const head = parseJwsHeader(token);
 * if (head.header.typ !== 'dpop+jwt') reject();
 * ```
 */
export interface JwsHead {
  /** Frozen: a header decoded once is shared by every token that carries it. */
  header: Readonly<Record<string, unknown>>;
  /** The compact serialization as received. */
  token: string;
  /** Where the payload segment starts and the signature segment starts (after each '.'). */
  payloadAt: number;
  signatureAt: number;
}

/**
 * A compact JWS fully parsed, not yet verified: a header with an allowed `alg` and no extension,
 * a JSON-object payload, and a signature of the algorithm's length.
 *
 * @example
 * ```ts
 * const jws: ParsedJws = parseJws(token);
 * verifyJwsSignature(jws, key);
 * ```
 */
export interface ParsedJws {
  header: Readonly<Record<string, unknown>>;
  payload: Record<string, unknown>;
  alg: AllowedAlg;
  /** ASCII `BASE64URL(header) '.' BASE64URL(payload)` (RFC 7515 §5.2 step 8). */
  signingInput: string;
  signature: Buffer;
}

/**
 * Parses and checks a compact JWS (RFC 7515 §7.1) without verifying it: three segments, each
 * canonical base64url, a header and a payload that are JSON objects without duplicate member
 * names, an allowed `alg`, no `crit` or `b64`, and a 64-byte signature. Every malformation is a
 * `JwsError`.
 *
 * @example
 * ```ts
 * const jws = parseJws(token);
 * verifyJwsSignature(jws, key);
 * console.log(jws.payload.sub);
 * ```
 */
export function parseJws(token: string): ParsedJws {
  return completeJws(parseJwsHeader(token));
}

/**
 * The first stage of `parseJws`: the length limit, exactly three segments, and the protected
 * header. Callers that must check `typ` before `alg` (RFC 8725 §3.11) stop here first.
 *
 * @example
 * ```ts
 * const head = parseJwsHeader(token);
 * if (head.header.typ !== 'at+jwt') reject();
 * const jws = completeJws(head);
 * ```
 */
export function parseJwsHeader(token: string): JwsHead {
  if (typeof token !== 'string' || token.length > MAX_JWS_LENGTH) throw new JwsError('ERR_JWS_FORMAT', 'not a compact JWS');
  const first = token.indexOf('.');
  const second = first < 0 ? -1 : token.indexOf('.', first + 1);
  if (first <= 0 || second < 0 || token.indexOf('.', second + 1) >= 0) throw new JwsError('ERR_JWS_FORMAT', 'not a compact JWS');
  return { header: decodeHeader(token.slice(0, first)), token, payloadAt: first + 1, signatureAt: second + 1 };
}

function decodeHeader(segment: string): Readonly<Record<string, unknown>> {
  const hit = headerCache.get(segment);
  if (hit) return hit;
  const header = deepFreeze(decodeJsonObject(segment, 'ERR_JWS_HEADER', 'header'));
  if (segment.length <= HEADER_CACHE_MAX_SEGMENT) {
    if (headerCache.size >= HEADER_CACHE_LIMIT) headerCache.clear();
    headerCache.set(segment, header);
  }
  return header;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) for (const member of Object.values(Object.freeze(value))) deepFreeze(member);
  return value;
}

/**
 * The second stage of `parseJws`: `alg` on the allow-list, no extension, the payload, and the
 * signature's encoding and length.
 *
 * @example
 * ```ts
 * const jws = completeJws(parseJwsHeader(token));
 * ```
 */
export function completeJws(head: JwsHead): ParsedJws {
  const { header, token, payloadAt, signatureAt } = head;
  const alg = header.alg;
  if (typeof alg !== 'string' || !(ALLOWED_ALGS as readonly string[]).includes(alg))
    throw new JwsError('ERR_JWS_ALG', `alg ${typeof alg === 'string' ? alg.slice(0, 32) : '(missing)'} is not allowed`);
  // RFC 7515 §4.1.11: no extension is understood, so any `crit` is refused; RFC 7797 `b64` too,
  // even outside `crit`, so a payload is never read in two ways.
  if (Object.hasOwn(header, 'crit')) throw new JwsError('ERR_JWS_CRIT', 'crit extensions are not supported');
  if (Object.hasOwn(header, 'b64')) throw new JwsError('ERR_JWS_CRIT', 'unencoded payloads are not supported');
  const payload = decodeJsonObject(token.slice(payloadAt, signatureAt - 1), 'ERR_JWS_PAYLOAD', 'payload');
  const signature = decodeBase64urlStrict(token.slice(signatureAt));
  if (signature === null || signature.length !== SIGNATURE_BYTES) throw new JwsError('ERR_JWS_SIGNATURE', 'signature has the wrong length or encoding');
  return { header, payload, alg: alg as AllowedAlg, signingInput: token.slice(0, signatureAt - 1), signature };
}
