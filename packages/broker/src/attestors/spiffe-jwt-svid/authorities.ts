import { importJWK, type CryptoKey, type JWK } from 'jose';
import type { SpiffeBundle } from './bundle.ts';

/** JWT-SVID §2.1: RFC 7518 §3.3–3.5 only; never `none`, never HMAC, no EdDSA. */
export const JWT_SVID_ALGS = ['RS256', 'RS384', 'RS512', 'ES256', 'ES384', 'ES512', 'PS256', 'PS384', 'PS512'] as const;
export type JwtSvidAlg = (typeof JWT_SVID_ALGS)[number];

/** Trust Domain and Bundle §4.2.2: the `use` of JWT authorities. */
export const JWT_AUTHORITY_USE = 'jwt-svid';

/** Outcome of looking a `kid` up in a bundle. */
export type AuthorityLookup = { authority: JWK } | { missing: 'kid' | 'key' } | { otherUse: string };

/** Imported keys, per bundle key object and algorithm: each authority is imported once per bundle version. */
const imported = new WeakMap<JWK, Map<string, Promise<CryptoKey>>>();

/**
 * Finds the JWT authority a token header names. JWT-SVID §2.2 makes `kid` optional, but bundles
 * publish every JWT authority under a `kid` and SPIRE always sets it; like go-spiffe, a token
 * without one matches no authority (no trying key after key).
 *
 * @example
 * const found = findJwtAuthority(bundle, header.kid);
 * if ('authority' in found) await importAuthority(found.authority, 'ES256');
 */
export function findJwtAuthority(bundle: SpiffeBundle, kid: unknown): AuthorityLookup {
  if (typeof kid !== 'string' || kid === '') return { missing: 'kid' };
  const keys = bundle.keysById.get(kid);
  if (keys === undefined) return { missing: 'key' };
  const authority = keys.find((key) => key.use === JWT_AUTHORITY_USE);
  return authority ? { authority } : { otherUse: String(keys[0]?.use) };
}

/**
 * Imports a JWT authority for one algorithm; null when the key does not fit it (wrong key type or
 * curve, or a key pinned by its own `alg` to another algorithm).
 *
 * @example
 * const key = await importAuthority(jwk, 'RS256');
 */
export async function importAuthority(jwk: JWK, alg: JwtSvidAlg): Promise<CryptoKey | null> {
  if (jwk.alg !== undefined && jwk.alg !== alg) return null;
  let byAlg = imported.get(jwk);
  if (byAlg === undefined) imported.set(jwk, (byAlg = new Map()));
  let key = byAlg.get(alg);
  if (key === undefined) byAlg.set(alg, (key = importJWK(publicMembers(jwk), alg) as Promise<CryptoKey>));
  return key.catch(() => null);
}

/** Only the public parameters: a bundle carrying private members still yields a verification key. */
function publicMembers(jwk: JWK): JWK {
  const { kty, crv, x, y, n, e } = jwk;
  return Object.fromEntries(Object.entries({ kty, crv, x, y, n, e }).filter(([, value]) => value !== undefined));
}
