import { createLocalJWKSet, createRemoteJWKSet, customFetch, errors, type JSONWebKeySet, type JWTVerifyGetKey } from 'jose';
import { VerifierError } from './errors.ts';

/**
 * The issuer's keys: a remote JWKS (cached by jose, refetched on an unknown `kid` at most every
 * 30 s) or a local JWK Set. A key source that cannot answer is reported as `ERR_JWKS_UNAVAILABLE`
 * (503), distinct from a token naming a key that does not exist (401).
 */
export function createKeySource(jwks: string | URL | JSONWebKeySet, fetchImpl: typeof fetch | undefined): JWTVerifyGetKey {
  const source =
    typeof jwks === 'string' || jwks instanceof URL
      ? createRemoteJWKSet(new URL(jwks), fetchImpl ? { [customFetch]: fetchImpl } : {})
      : createLocalJWKSet(jwks);
  return async (header, token) => {
    try {
      return await source(header, token);
    } catch (error) {
      if (error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWKSMultipleMatchingKeys) throw error;
      if (error instanceof errors.JOSENotSupported) throw error;
      throw new VerifierError('ERR_JWKS_UNAVAILABLE', 'the issuer keys could not be fetched', { cause: error });
    }
  };
}
