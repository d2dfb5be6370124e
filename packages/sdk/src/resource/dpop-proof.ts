import * as nodeCrypto from 'node:crypto';
import { createHash, type KeyObject } from 'node:crypto';
import { completeJws, importPublicJwk, JwsError, parseJwsHeader, verifyJwsSignature, type JwsHead, type ParsedJws } from '../jws/index.ts';
import { JWT_TYP, SIGNING_ALGS } from '../protocol/index.ts';
import { VerifierError, type VerifierErrorCode } from './errors.ts';
import { normalizeHtu } from './htu.ts';
import type { NonceSource } from './nonce.ts';

export interface ProofExpectations {
  method: string;
  /** The URI the proof must name (public URL + request path). */
  htu: string;
  accessToken: string;
  nowSeconds: number;
  skewSeconds: number;
  maxAgeSeconds: number;
  /** Present when nonces are required. */
  nonces: NonceSource | undefined;
}

export interface VerifiedProof {
  jkt: string;
  jti: string;
  iat: number;
}

const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];
const CURVE_OF: Record<string, { kty: string; crv: string }> = { ES256: { kty: 'EC', crv: 'P-256' }, EdDSA: { kty: 'OKP', crv: 'Ed25519' } };
const CACHE_LIMIT = 1000;

// RFC 9449 §4.2 `ath`: one-shot crypto.hash (Node ≥ 20.12) skips building a Hash object per request.
const sha256Base64url: (text: string) => string =
  typeof nodeCrypto.hash === 'function' ? (text) => nodeCrypto.hash('sha256', text, 'base64url') : (text) => createHash('sha256').update(text).digest('base64url');

type Fail = (code: VerifierErrorCode, message: string, cause?: unknown) => never;
const fail: Fail = (code, message, cause) => {
  throw new VerifierError(code, message, { cause });
};

/**
 * RFC 9449 §4.3 at a resource server (PROTOCOL §6): one proof, `typ`, alg allow-list, a public
 * `jwk` of the alg's key type, signature, `jti`, `htm`, `htu`, `iat` window, `ath`, and the nonce
 * when required. The `jti` replay check and `cnf.jkt` binding are left to the caller, which
 * records the `jti` only once everything else has passed.
 *
 * @example
 * ```ts
 * const verifyProof = createProofVerifier();
 * const { jkt, jti, iat } = await verifyProof([dpopHeader], { method: 'GET', htu, accessToken, nowSeconds, skewSeconds: 30, maxAgeSeconds: 60, nonces: undefined });
 * ```
 */
export function createProofVerifier() {
  const keyFor = createProofKeyCache();
  const normalized = boundedMemo(normalizeHtu);

  return async function verifyProof(values: string[], expected: ProofExpectations): Promise<VerifiedProof> {
    if (values.length === 0) fail('ERR_DPOP_MISSING', 'a DPoP proof is required');
    if (values.length > 1 || values[0]!.includes(',')) fail('ERR_DPOP_MALFORMED', 'exactly one DPoP header is allowed');
    const head = readHeader(values[0]!.trim());
    if (head.header.typ !== JWT_TYP.dpopProof) fail('ERR_DPOP_TYP', 'the DPoP proof typ must be dpop+jwt');
    const alg = head.header.alg;
    if (typeof alg !== 'string' || !(SIGNING_ALGS as readonly string[]).includes(alg)) fail('ERR_DPOP_ALG', `the DPoP proof alg ${String(alg).slice(0, 32)} is not allowed`);
    const { key, jkt } = keyFor(checkJwk(head.header.jwk, alg as string));
    const { jti, htm, htu, iat, ath, nonce } = verifySignature(readRest(head), key).payload;
    if (typeof jti !== 'string' || jti.length === 0 || jti.length > 256) fail('ERR_DPOP_JTI', 'the DPoP proof jti is missing or too long');
    if (htm !== expected.method.toUpperCase()) fail('ERR_DPOP_HTM', 'the DPoP proof htm does not match the request method');
    const want = normalized(expected.htu);
    if (typeof htu !== 'string' || want === null || normalized(htu) !== want) fail('ERR_DPOP_HTU', 'the DPoP proof htu does not match the request URI');
    if (typeof iat !== 'number' || !Number.isInteger(iat)) fail('ERR_DPOP_IAT', 'the DPoP proof has no integer iat');
    if ((iat as number) > expected.nowSeconds + expected.skewSeconds) fail('ERR_DPOP_IAT', 'the DPoP proof iat is in the future');
    if ((iat as number) < expected.nowSeconds - expected.maxAgeSeconds) fail('ERR_DPOP_IAT', 'the DPoP proof is too old');
    if (ath !== sha256Base64url(expected.accessToken)) fail('ERR_DPOP_ATH', 'the DPoP proof ath does not match the access token');
    if (expected.nonces && !(await expected.nonces.accepts(nonce, expected.nowSeconds)))
      fail('ERR_DPOP_NONCE', nonce === undefined ? 'a DPoP nonce is required' : 'the DPoP nonce is invalid or expired');
    return { jkt, jti: jti as string, iat: iat as number };
  };
}

/**
 * Public keys of proofs by RFC 7638 thumbprint input (the required members in order, which is
 * what identifies the key): importing costs more than verifying, and one client's proofs repeat
 * its key. The thumbprint itself is hashed only on a miss. The JWS module hands out one frozen
 * header per distinct header segment, so its `jwk` object finds the entry without serializing.
 */
function createProofKeyCache() {
  const cache = new Map<string, { key: KeyObject; jkt: string }>();
  const byObject = new WeakMap<object, { key: KeyObject; jkt: string }>();
  return (jwk: CheckedJwk) => {
    const known = byObject.get(jwk);
    if (known) return known;
    const entry = entryFor(jwk);
    byObject.set(jwk, entry);
    return entry;
  };

  function entryFor(jwk: CheckedJwk) {
    const input = jwk.kty === 'EC' ? JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y }) : JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x });
    const hit = cache.get(input);
    if (hit) return hit;
    let entry;
    try {
      entry = { key: importPublicJwk(jwk), jkt: createHash('sha256').update(input).digest('base64url') };
    } catch (error) {
      return fail('ERR_DPOP_JWK', 'the proof jwk cannot be imported', error);
    }
    if (cache.size >= CACHE_LIMIT) cache.clear();
    cache.set(input, entry);
    return entry;
  }
}

/** `normalizeHtu` parses a URL; a server sees few distinct ones, so answers are remembered (bounded). */
function boundedMemo(compute: (value: string) => string | null): (value: string) => string | null {
  const memo = new Map<string, string | null>();
  return (value) => {
    const hit = memo.get(value);
    if (hit !== undefined) return hit;
    const result = compute(value);
    if (memo.size >= CACHE_LIMIT) memo.clear();
    memo.set(value, result);
    return result;
  };
}

interface CheckedJwk extends Record<string, unknown> {
  kty: string;
  crv: string;
  x: string;
  y?: string;
}

/** RFC 9449 §4.3 (5): a public key only, of the type the alg names. */
function checkJwk(jwk: unknown, alg: string): CheckedJwk {
  if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk)) return fail('ERR_DPOP_JWK', 'the DPoP proof has no jwk header');
  const value = jwk as Record<string, unknown>;
  if (PRIVATE_MEMBERS.some((member) => Object.hasOwn(value, member))) fail('ERR_DPOP_JWK', 'the DPoP proof jwk must be a public key');
  const want = CURVE_OF[alg]!;
  if (value.kty !== want.kty || value.crv !== want.crv) fail('ERR_DPOP_JWK', `the DPoP proof jwk does not fit alg ${alg}`);
  if (typeof value.x !== 'string' || (value.kty === 'EC' && typeof value.y !== 'string')) fail('ERR_DPOP_JWK', 'the DPoP proof jwk coordinates are missing');
  return value as CheckedJwk;
}

function readHeader(proof: string): JwsHead {
  try {
    return parseJwsHeader(proof);
  } catch (error) {
    return fail('ERR_DPOP_MALFORMED', 'the DPoP proof is not a JWS', error);
  }
}

function readRest(head: JwsHead): ParsedJws {
  try {
    return completeJws(head);
  } catch (error) {
    if (!(error instanceof JwsError)) throw error;
    if (error.code === 'ERR_JWS_SIGNATURE') return fail('ERR_DPOP_SIGNATURE', 'the DPoP proof signature is invalid', error);
    return fail('ERR_DPOP_MALFORMED', 'the DPoP proof could not be verified', error);
  }
}

function verifySignature(jws: ParsedJws, key: KeyObject): ParsedJws {
  try {
    verifyJwsSignature(jws, key);
    return jws;
  } catch (error) {
    if (!(error instanceof JwsError)) throw error;
    return fail('ERR_DPOP_SIGNATURE', 'the DPoP proof signature is invalid', error);
  }
}
