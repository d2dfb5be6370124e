import { createPublicKey, verify, type KeyObject } from 'node:crypto';
import { JwsError } from './errors.ts';
import type { AllowedAlg, ParsedJws } from './parse.ts';

/**
 * Whether `key` is of the type `alg` names: a P-256 key for ES256, an Ed25519 key for EdDSA.
 * Checked before every verification, so a key is never used with another algorithm.
 *
 * @example
 * ```ts
 * if (!keyFitsAlg(key, jws.alg)) reject();
 * ```
 */
export function keyFitsAlg(key: KeyObject, alg: AllowedAlg): boolean {
  if (alg === 'ES256') return key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1';
  return key.asymmetricKeyType === 'ed25519';
}

/**
 * Whether the signature of `jws` verifies with `key` (false too when the key does not fit the
 * alg). ES256 signatures are r ‖ s (`ieee-p1363`, RFC 7518 §3.4), never DER.
 *
 * @example
 * ```ts
 * const ok = signatureVerifies(parseJws(token), key);
 * ```
 */
export function signatureVerifies(jws: ParsedJws, key: KeyObject): boolean {
  if (!keyFitsAlg(key, jws.alg)) return false;
  // The signing input is ASCII (canonical base64url and '.'), so latin1 gives its bytes directly.
  const data = Buffer.from(jws.signingInput, 'latin1');
  return jws.alg === 'ES256' ? verify('sha256', data, { key, dsaEncoding: 'ieee-p1363' }, jws.signature) : verify(null, data, key, jws.signature);
}

/**
 * Verifies the signature of `jws` with `key`, which must fit the header's `alg`; throws
 * `JwsError` (`ERR_JWS_ALG` for a key of another type, `ERR_JWS_SIGNATURE` otherwise).
 *
 * @example
 * ```ts
 * verifyJwsSignature(parseJws(token), key);
 * ```
 */
export function verifyJwsSignature(jws: ParsedJws, key: KeyObject): void {
  if (!keyFitsAlg(key, jws.alg)) throw new JwsError('ERR_JWS_ALG', `key type does not match alg ${jws.alg}`);
  if (!signatureVerifies(jws, key)) throw new JwsError('ERR_JWS_SIGNATURE', 'signature does not verify');
}

/**
 * Imports a public JWK (EC P-256 or OKP Ed25519) as a node:crypto key, from its public members
 * only, once: callers cache the result, since importing costs more than verifying.
 *
 * @example
 * ```ts
 * const key = importPublicJwk({ kty: 'OKP', crv: 'Ed25519', x: '11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo' });
 * ```
 */
export function importPublicJwk(jwk: Record<string, unknown>): KeyObject {
  const members = jwk.kty === 'EC' ? { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y } : { kty: jwk.kty, crv: jwk.crv, x: jwk.x };
  return createPublicKey({ key: members as never, format: 'jwk' });
}
