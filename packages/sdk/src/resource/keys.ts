import type { KeyObject } from 'node:crypto';
import { createRemoteJWKSet, customFetch, type JSONWebKeySet, type JWK } from 'jose';
import { importPublicJwk, type AllowedAlg } from '../jws/index.ts';
import { VerifierError } from './errors.ts';

/**
 * The issuer's verification keys as node:crypto keys, each imported once.
 *
 * @example
 * ```ts
 * const keys = createKeySource('http://localhost:7420/jwks', undefined);
 * const candidates = await keys.keysFor('ES256', 'k1');
 * ```
 */
export interface KeySource {
  /** The keys that may have signed a token with this `alg` and `kid`; never empty (else it throws). */
  keysFor(alg: AllowedAlg, kid: string | undefined): KeyObject[] | Promise<KeyObject[]>;
}

const FIT: Record<AllowedAlg, { kty: string; crv: string }> = { ES256: { kty: 'EC', crv: 'P-256' }, EdDSA: { kty: 'OKP', crv: 'Ed25519' } };
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];

/**
 * The issuer's keys: a remote JWKS (fetched, cached and timed out by jose; refetched when stale,
 * or on an unknown `kid` at most every 30 s) or a local JWK Set. A key source that cannot answer is
 * `ERR_JWKS_UNAVAILABLE` (503), distinct from a token naming a key that does not exist (401).
 *
 * @example
 * ```ts
 * const keys = createKeySource({ keys: [publicJwk] }, undefined);
 * ```
 */
export function createKeySource(jwks: string | URL | JSONWebKeySet, fetchImpl: typeof fetch | undefined): KeySource {
  if (typeof jwks !== 'string' && !(jwks instanceof URL)) {
    const index = indexKeys(structuredClone(jwks));
    return { keysFor: (alg, kid) => found(index(alg, kid)) };
  }
  const remote = createRemoteJWKSet(new URL(jwks), fetchImpl ? { [customFetch]: fetchImpl } : {});
  let index: KeyIndex | undefined;
  let pending: Promise<void> | undefined;
  const reload = () =>
    (pending ??= remote
      .reload()
      .then(() => void (index = indexKeys(remote.jwks()!)))
      .catch((error: unknown) => {
        throw new VerifierError('ERR_JWKS_UNAVAILABLE', 'the issuer keys could not be fetched', { cause: error });
      })
      .finally(() => (pending = undefined)));
  const afterReload = async (alg: AllowedAlg, kid: string | undefined) => {
    await reload();
    return found(index!(alg, kid));
  };
  return {
    keysFor(alg, kid) {
      if (index === undefined || !remote.fresh) return afterReload(alg, kid);
      const hit = index(alg, kid);
      // An unknown kid may be a rotation: refetch, but at most once per cooldown (jose's 30 s).
      return hit.length > 0 || remote.coolingDown ? found(hit) : afterReload(alg, kid);
    },
  };
}

type KeyIndex = (alg: AllowedAlg, kid: string | undefined) => KeyObject[];

/** Candidates chosen as jose's JWK Set does (kid, kty, crv, use, alg, key_ops), imported once per (alg, kid). */
function indexKeys(set: JSONWebKeySet): KeyIndex {
  const imported = new Map<string, KeyObject[]>();
  return (alg, kid) => {
    const cacheKey = `${alg} ${kid ?? ''}`;
    const hit = imported.get(cacheKey);
    if (hit) return hit;
    const keys = set.keys.filter((jwk) => usable(jwk, alg, kid)).map(importIssuerKey);
    // Only keys that exist are remembered: a kid from a token is attacker-chosen.
    if (keys.length > 0) imported.set(cacheKey, keys);
    return keys;
  };
}

function usable(jwk: JWK, alg: AllowedAlg, kid: string | undefined): boolean {
  const { kty, crv, use, key_ops: ops, ext } = jwk;
  if (kty !== FIT[alg].kty || crv !== FIT[alg].crv || (kid !== undefined && jwk.kid !== kid)) return false;
  if ((jwk.alg !== undefined && jwk.alg !== alg) || (use !== undefined && use !== 'sig') || (ext !== undefined && typeof ext !== 'boolean')) return false;
  return ops === undefined || (Array.isArray(ops) && ops.includes('verify') && new Set(ops).size === ops.length);
}

function importIssuerKey(jwk: JWK): KeyObject {
  try {
    if (PRIVATE_MEMBERS.some((member) => Object.hasOwn(jwk, member))) throw new TypeError('the key set holds private key material');
    return importPublicJwk(jwk as Record<string, unknown>);
  } catch (error) {
    throw new VerifierError('ERR_JWKS_UNAVAILABLE', 'an issuer key cannot be imported', { cause: error });
  }
}

function found(keys: KeyObject[]): KeyObject[] {
  if (keys.length === 0) throw new VerifierError('ERR_TOKEN_KEY_UNKNOWN', 'no published key matches the access token kid');
  return keys;
}
