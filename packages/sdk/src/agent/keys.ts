import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, type JWK } from 'jose';
import { ConfigurationError } from '../errors.ts';

/** The signature algorithms Mandate accepts from agents (PROTOCOL §2, §6). */
export type SigningAlg = 'ES256' | 'EdDSA';

export interface SigningKey {
  key: CryptoKey;
  alg: SigningAlg;
}

/** The agent's DPoP key with what every proof needs precomputed. */
export interface DpopKey extends SigningKey {
  publicJwk: JWK;
  /** RFC 7638 thumbprint of `publicJwk` (SHA-256, base64url). */
  jkt: string;
}

function algOfCryptoKey(key: CryptoKey): SigningAlg {
  const algorithm = key.algorithm as { name: string; namedCurve?: string };
  if (algorithm.name === 'ECDSA' && algorithm.namedCurve === 'P-256') return 'ES256';
  if (algorithm.name === 'Ed25519') return 'EdDSA';
  throw new ConfigurationError(`unsupported key algorithm ${algorithm.name}: use ECDSA P-256 (ES256) or Ed25519 (EdDSA)`);
}

function algOfJwk(jwk: JWK): SigningAlg {
  if (jwk.kty === 'EC' && jwk.crv === 'P-256') return 'ES256';
  if (jwk.kty === 'OKP' && jwk.crv === 'Ed25519') return 'EdDSA';
  throw new ConfigurationError(`unsupported JWK (kty ${jwk.kty}, crv ${jwk.crv}): use EC P-256 or OKP Ed25519`);
}

/** Imports the private key the agent authenticates with (`private_key_jwt`, RFC 7523). */
export async function importSigningKey(input: CryptoKey | JWK, what: string): Promise<SigningKey> {
  if (isCryptoKey(input)) {
    if (input.type !== 'private') throw new ConfigurationError(`${what} must be a private key`);
    return { key: input, alg: algOfCryptoKey(input) };
  }
  if (typeof input !== 'object' || input === null || typeof input.d !== 'string') throw new ConfigurationError(`${what} must be a private CryptoKey or a private JWK`);
  const alg = algOfJwk(input);
  return { key: (await importJWK(input, alg)) as CryptoKey, alg };
}

/** Uses the DPoP key pair given, or generates a non-extractable ES256 pair. */
export async function prepareDpopKey(pair?: CryptoKeyPair): Promise<DpopKey> {
  const keys = pair ?? (await generateKeyPair('ES256'));
  const { key, alg } = await importSigningKey(keys.privateKey, 'dpopKey.privateKey');
  const { kty, crv, x, y } = await exportJWK(keys.publicKey);
  const publicJwk: JWK = y === undefined ? { kty, crv, x } : { kty, crv, x, y };
  return { key, alg, publicJwk, jkt: await calculateJwkThumbprint(publicJwk, 'sha256') };
}

function isCryptoKey(value: unknown): value is CryptoKey {
  return typeof CryptoKey !== 'undefined' && value instanceof CryptoKey;
}
