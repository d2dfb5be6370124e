import type { KeyObject } from 'node:crypto';
import type { PublicJwk } from '../core/model.ts';
import { publicKeyFromJwk } from '../keys/jws.ts';
import { thumbprint } from '../proof/jwk-thumbprint.ts';
import type { KeyStore } from '../ports/key-store.ts';

/** The keys audit heads and checkpoints are checked against, by `kid`. */
export interface VerificationKeys {
  verificationKey(kid: string): KeyObject | null;
}

/**
 * Every key the store holds, retired ones included (heads outlive key retirement). Trusting the
 * store's own keys cannot catch an attacker who rewrites the database and its keys: see
 * `verificationKeysFromJwks`.
 */
export async function verificationKeysFromStore(store: Pick<KeyStore, 'list'>): Promise<VerificationKeys> {
  return verificationKeysFromJwks({ keys: (await store.list()).map((record) => record.publicJwk) });
}

/**
 * Keys from a JWKS kept apart from the database (`--trusted-jwks`). A key without `kid` is found
 * by its RFC 7638 thumbprint, which is how the broker names its keys.
 *
 * @example
 * const keys = verificationKeysFromJwks(JSON.parse(readFileSync('trusted.jwks.json', 'utf8')));
 */
export function verificationKeysFromJwks(jwks: { keys: readonly PublicJwk[] }): VerificationKeys {
  const byKid = new Map<string, KeyObject>();
  for (const jwk of jwks.keys) byKid.set(jwk.kid ?? thumbprint(jwk), publicKeyFromJwk(publicPart(jwk)));
  return { verificationKey: (kid) => byKid.get(kid) ?? null };
}

/** Drops a private `d` if someone pasted a private JWK, so no private key is ever loaded here. */
function publicPart(jwk: PublicJwk): PublicJwk {
  const { d: _d, ...rest } = jwk as PublicJwk & { d?: unknown };
  return rest;
}

/**
 * Parses a JWKS file's text; throws a plain message on anything that is not
 * `{ "keys": [ EC public JWKs ] }`.
 */
export function parseJwks(text: string): { keys: PublicJwk[] } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new Error(`not valid JSON: ${(error as Error).message}`);
  }
  const keys = (parsed as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(keys) || keys.length === 0 || !keys.every(isJwkObject)) throw new Error('expected {"keys": [JWK, …]} with at least one key');
  return { keys: keys as PublicJwk[] };
}

const isJwkObject = (value: unknown) => typeof value === 'object' && value !== null && typeof (value as { kty?: unknown }).kty === 'string';
