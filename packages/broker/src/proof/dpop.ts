import { createHash, type KeyObject } from 'node:crypto';
import { PRIVATE_MEMBERS } from '../core/agent-key.ts';
import { MandateError, type ErrorCode } from '../core/errors.ts';
import type { PublicJwk } from '../core/model.ts';
import type { Clock } from '../ports/clock.ts';
import type { ReplayCache } from '../ports/replay-cache.ts';
import { thumbprint } from './jwk-thumbprint.ts';
import { normalizeHtu } from '@mandate/sdk';
import { importPublicJwk, JwsError, keyFitsAlg, parseJws, verifyJwsSignature, type ParsedJws } from './jws.ts';
import type { DpopNonces } from './nonce.ts';
import { isPlainJti, useOnce, type HeldIds } from './single-use.ts';

export interface DpopVerifierOptions {
  replay: ReplayCache;
  clock: Clock;
  nonces: DpopNonces;
  requireNonce: boolean;
  /** How far `iat` may lie from now, in seconds, either way. */
  iatWindowSeconds: number;
}

export interface DpopRequest {
  /** The `DPoP` header values as received (must be exactly one). */
  headerValues: readonly string[];
  method: string;
  /** The request URI as the issuer names it (never derived from `Host`). */
  url: string;
  /** The access token presented with the proof (resource servers check `ath`). */
  accessToken?: string;
  /** When the request holds its single-use ids back for the token's commit (proof/single-use.ts). */
  held?: HeldIds;
}

export interface VerifiedDpop {
  jkt: string;
  jwk: PublicJwk;
  jti: string;
  iat: number;
}

const MAX_JTI_LENGTH = 256;
const KEY_CACHE_LIMIT = 10_000;

/** RFC 9449 §4.3: server-side DPoP proof checks, each ending in its own error code. */
export function createDpopVerifier(options: DpopVerifierOptions) {
  const keyCache = new Map<string, { key: KeyObject; jwk: PublicJwk; jkt: string }>();

  const keyFor = (jws: ParsedJws) => {
    const cacheKey = jws.signingInput.slice(0, jws.signingInput.indexOf('.'));
    const hit = keyCache.get(cacheKey);
    if (hit) return hit;
    const jwk = checkJwk(jws.header.jwk);
    const entry = { key: importJwk(jwk), jwk, jkt: thumbprint(jwk) };
    if (keyCache.size >= KEY_CACHE_LIMIT) keyCache.clear();
    keyCache.set(cacheKey, entry);
    return entry;
  };

  // `cacheSize` feeds the mandate_cache_entries gauge (docs/operations.md).
  return Object.assign(async function verifyDpopProof(request: DpopRequest): Promise<VerifiedDpop> {
    if (request.headerValues.length === 0) fail('ERR_DPOP_MISSING', 'a DPoP proof is required');
    if (request.headerValues.length > 1) fail('ERR_DPOP_MALFORMED', 'exactly one DPoP header is allowed');
    const jws = parseProof(request.headerValues[0]!);
    if (jws.header.typ !== 'dpop+jwt') fail('ERR_DPOP_TYP', 'typ must be dpop+jwt');
    const { key, jwk, jkt } = keyFor(jws);
    if (!keyFitsAlg(key, jws.alg)) fail('ERR_DPOP_ALG', `jwk does not fit alg ${jws.alg}`);
    verifySignature(jws, key);
    const { jti, htm, htu, iat, nonce, ath } = jws.payload;
    if (typeof jti !== 'string' || jti.length === 0 || jti.length > MAX_JTI_LENGTH) fail('ERR_DPOP_JTI', 'jti is missing or too long');
    if (!isPlainJti(jti)) fail('ERR_DPOP_JTI', 'jti must not hold control characters or lone surrogates');
    if (htm !== request.method) fail('ERR_DPOP_HTM', 'htm does not match the request method');
    if (typeof htu !== 'string' || normalizeHtu(htu) !== normalizeHtu(request.url)) fail('ERR_DPOP_HTU', 'htu does not match the request URI');
    const now = Math.floor(options.clock.now() / 1000);
    if (typeof iat !== 'number' || !Number.isInteger(iat) || Math.abs(now - iat) > options.iatWindowSeconds)
      fail('ERR_DPOP_IAT', 'iat is missing or outside the accepted window');
    checkAth(ath, request.accessToken);
    checkNonce(nonce, options);
    const claim = { namespace: 'dpop', id: `${jkt}:${jti}`, expiresAt: (iat + options.iatWindowSeconds + 1) * 1000, code: 'ERR_DPOP_REPLAY', message: 'jti was already used' } as const;
    await useOnce(options.replay, claim, options.clock.now(), request.held);
    return { jkt, jwk, jti, iat };
  }, { cacheSize: () => keyCache.size });
}

function parseProof(proof: string): ParsedJws {
  try {
    return parseJws(proof);
  } catch (error) {
    if (error instanceof JwsError) fail(error.code === 'ERR_JWS_ALG' ? 'ERR_DPOP_ALG' : 'ERR_DPOP_MALFORMED', error.message);
    throw error;
  }
}

function verifySignature(jws: ParsedJws, key: KeyObject): void {
  try {
    verifyJwsSignature(jws, key);
  } catch (error) {
    if (error instanceof JwsError) fail('ERR_DPOP_SIGNATURE', 'signature does not verify');
    throw error;
  }
}

function checkJwk(value: unknown): PublicJwk {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail('ERR_DPOP_JWK', 'jwk header is missing');
  const jwk = value as Record<string, unknown>;
  // RFC 9449 §4.3 (6): the jwk must not contain a private key.
  if (PRIVATE_MEMBERS.some((m) => m in jwk)) fail('ERR_DPOP_JWK', 'jwk must not contain private key material');
  const okEc = jwk.kty === 'EC' && jwk.crv === 'P-256' && typeof jwk.x === 'string' && typeof jwk.y === 'string';
  const okOkp = jwk.kty === 'OKP' && jwk.crv === 'Ed25519' && typeof jwk.x === 'string';
  if (!okEc && !okOkp) fail('ERR_DPOP_JWK', 'jwk must be a P-256 or Ed25519 public key');
  return okEc ? { kty: 'EC', crv: 'P-256', x: jwk.x as string, y: jwk.y as string } : { kty: 'OKP', crv: 'Ed25519', x: jwk.x as string };
}

function importJwk(jwk: PublicJwk): KeyObject {
  try {
    return importPublicJwk(jwk as unknown as Record<string, unknown>);
  } catch {
    fail('ERR_DPOP_JWK', 'jwk is not a valid public key');
  }
}

function checkAth(ath: unknown, accessToken: string | undefined): void {
  if (accessToken === undefined) return;
  const expected = createHash('sha256').update(accessToken).digest('base64url');
  if (ath !== expected) fail('ERR_DPOP_ATH', 'ath does not match the access token');
}

function checkNonce(nonce: unknown, options: DpopVerifierOptions): void {
  if (nonce === undefined && !options.requireNonce) return;
  if (nonce === undefined) fail('ERR_DPOP_NONCE_REQUIRED', 'a DPoP nonce is required');
  if (typeof nonce !== 'string' || !options.nonces.check(nonce)) fail('ERR_DPOP_NONCE_INVALID', 'the DPoP nonce is stale or invalid');
}

function fail(code: ErrorCode, message: string): never {
  throw new MandateError(code, message);
}
