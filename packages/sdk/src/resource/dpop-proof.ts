import { calculateJwkThumbprint, compactVerify, decodeProtectedHeader, errors, importJWK, type JWK } from 'jose';
import { JWT_TYP, SIGNING_ALGS } from '../protocol/index.ts';
import { sha256Base64url } from '../util/crypto.ts';
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
const KEY_CACHE_LIMIT = 1000;

type Fail = (code: VerifierErrorCode, message: string, cause?: unknown) => never;
const fail: Fail = (code, message, cause) => {
  throw new VerifierError(code, message, { cause });
};

/**
 * RFC 9449 §4.3 at a resource server (PROTOCOL §6): one proof, `typ`, alg allow-list, a public
 * `jwk` of the alg's key type, signature, `jti`, `htm`, `htu`, `iat` window, `ath`, and the nonce
 * when required. The `jti` replay check and `cnf.jkt` binding are left to the caller, which
 * records the `jti` only once everything else has passed.
 */
export function createProofVerifier() {
  // Importing a JWK costs more than verifying a signature; proofs from one key repeat it.
  const keyCache = new Map<string, { key: CryptoKey; jkt: string }>();

  const keyFor = async (jwk: JWK, alg: string) => {
    const cacheKey = `${alg}:${jwk.kty}:${jwk.crv}:${jwk.x}:${jwk.y ?? ''}`;
    const hit = keyCache.get(cacheKey);
    if (hit) return hit;
    let entry;
    try {
      entry = { key: (await importJWK(jwk, alg)) as CryptoKey, jkt: await calculateJwkThumbprint(jwk, 'sha256') };
    } catch (error) {
      return fail('ERR_DPOP_JWK', 'the proof jwk cannot be imported', error);
    }
    if (keyCache.size >= KEY_CACHE_LIMIT) keyCache.clear();
    keyCache.set(cacheKey, entry);
    return entry;
  };

  return async function verifyProof(values: string[], expected: ProofExpectations): Promise<VerifiedProof> {
    if (values.length === 0) fail('ERR_DPOP_MISSING', 'a DPoP proof is required');
    if (values.length > 1 || values[0]!.includes(',')) fail('ERR_DPOP_MALFORMED', 'exactly one DPoP header is allowed');
    const proof = values[0]!.trim();
    let header;
    try {
      header = decodeProtectedHeader(proof);
    } catch (error) {
      return fail('ERR_DPOP_MALFORMED', 'the DPoP proof is not a JWS', error);
    }
    if (header.typ !== JWT_TYP.dpopProof) fail('ERR_DPOP_TYP', 'the DPoP proof typ must be dpop+jwt');
    const alg = header.alg;
    if (typeof alg !== 'string' || !(SIGNING_ALGS as readonly string[]).includes(alg)) fail('ERR_DPOP_ALG', `the DPoP proof alg ${String(alg)} is not allowed`);
    const jwk = checkJwk(header.jwk, alg!);
    const { key, jkt } = await keyFor(jwk, alg!);
    const payload = await verifySignature(proof, key, alg!);
    const { jti, htm, htu, iat, ath, nonce } = payload;
    if (typeof jti !== 'string' || jti.length === 0 || jti.length > 256) fail('ERR_DPOP_JTI', 'the DPoP proof jti is missing or too long');
    if (htm !== expected.method.toUpperCase()) fail('ERR_DPOP_HTM', 'the DPoP proof htm does not match the request method');
    const want = normalizeHtu(expected.htu);
    if (typeof htu !== 'string' || want === null || normalizeHtu(htu) !== want) fail('ERR_DPOP_HTU', 'the DPoP proof htu does not match the request URI');
    if (typeof iat !== 'number' || !Number.isInteger(iat)) fail('ERR_DPOP_IAT', 'the DPoP proof has no integer iat');
    if ((iat as number) > expected.nowSeconds + expected.skewSeconds) fail('ERR_DPOP_IAT', 'the DPoP proof iat is in the future');
    if ((iat as number) < expected.nowSeconds - expected.maxAgeSeconds) fail('ERR_DPOP_IAT', 'the DPoP proof is too old');
    if (ath !== (await sha256Base64url(expected.accessToken))) fail('ERR_DPOP_ATH', 'the DPoP proof ath does not match the access token');
    if (expected.nonces && !(await expected.nonces.accepts(nonce, expected.nowSeconds)))
      fail('ERR_DPOP_NONCE', nonce === undefined ? 'a DPoP nonce is required' : 'the DPoP nonce is invalid or expired');
    return { jkt, jti: jti as string, iat: iat as number };
  };
}

/** RFC 9449 §4.3 (5): a public key only, of the type the alg names. */
function checkJwk(jwk: unknown, alg: string): JWK {
  if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk)) return fail('ERR_DPOP_JWK', 'the DPoP proof has no jwk header');
  const value = jwk as JWK;
  if (PRIVATE_MEMBERS.some((member) => member in value)) fail('ERR_DPOP_JWK', 'the DPoP proof jwk must be a public key');
  const want = CURVE_OF[alg]!;
  if (value.kty !== want.kty || value.crv !== want.crv) fail('ERR_DPOP_JWK', `the DPoP proof jwk does not fit alg ${alg}`);
  return value;
}

async function verifySignature(proof: string, key: CryptoKey, alg: string): Promise<Record<string, unknown>> {
  let bytes: Uint8Array;
  try {
    ({ payload: bytes } = await compactVerify(proof, key, { algorithms: [alg] }));
  } catch (error) {
    if (error instanceof errors.JWSSignatureVerificationFailed) return fail('ERR_DPOP_SIGNATURE', 'the DPoP proof signature is invalid', error);
    return fail('ERR_DPOP_MALFORMED', 'the DPoP proof could not be verified', error);
  }
  try {
    const payload: unknown = JSON.parse(new TextDecoder().decode(bytes));
    if (typeof payload === 'object' && payload !== null && !Array.isArray(payload)) return payload as Record<string, unknown>;
  } catch {
    // fall through
  }
  return fail('ERR_DPOP_MALFORMED', 'the DPoP proof payload is not a JSON object');
}
