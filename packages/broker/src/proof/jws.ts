import { createPublicKey, verify, type KeyObject } from 'node:crypto';

/**
 * The one hand-written JWS module: strict compact parsing and signature verification on cached
 * node:crypto keys (jose's per-call key import costs several times more on the hot path).
 * Algorithms are an explicit allow-list (RFC 8725 §3.1); `none`, HMAC and RSA never verify here.
 */
export const ALLOWED_ALGS = ['ES256', 'EdDSA'] as const;
export type AllowedAlg = (typeof ALLOWED_ALGS)[number];

export interface ParsedJws {
  header: Record<string, unknown>;
  payload: Record<string, unknown>;
  alg: AllowedAlg;
  signingInput: string;
  signature: Buffer;
}

export type JwsFault =
  | 'ERR_JWS_FORMAT'
  | 'ERR_JWS_HEADER'
  | 'ERR_JWS_ALG'
  | 'ERR_JWS_CRIT'
  | 'ERR_JWS_PAYLOAD'
  | 'ERR_JWS_SIGNATURE';

export class JwsError extends Error {
  override readonly name = 'JwsError';
  constructor(readonly code: JwsFault, message: string) {
    super(message);
  }
}

const SEGMENT = /^[A-Za-z0-9_-]*$/;
const SIGNATURE_BYTES: Record<AllowedAlg, number> = { ES256: 64, EdDSA: 64 };

/** Parses a compact JWS without verifying it. Every malformation is a JwsError. */
export function parseJws(token: string): ParsedJws {
  const parts = token.split('.');
  if (parts.length !== 3 || !parts.every((p) => SEGMENT.test(p)) || !parts[0] || !parts[1] || !parts[2])
    throw new JwsError('ERR_JWS_FORMAT', 'not a compact JWS');
  const [h, p, s] = parts as [string, string, string];
  const header = decodeObject(h, 'ERR_JWS_HEADER', 'header');
  const alg = header.alg;
  if (typeof alg !== 'string' || !(ALLOWED_ALGS as readonly string[]).includes(alg))
    throw new JwsError('ERR_JWS_ALG', `alg ${typeof alg === 'string' ? alg : '(missing)'} is not allowed`);
  // RFC 7515 §4.1.11: we understand no extensions, so any `crit` is rejected (this covers b64=false).
  if ('crit' in header) throw new JwsError('ERR_JWS_CRIT', 'crit extensions are not supported');
  if ('b64' in header) throw new JwsError('ERR_JWS_CRIT', 'unencoded payloads are not supported');
  const payload = decodeObject(p, 'ERR_JWS_PAYLOAD', 'payload');
  const signature = Buffer.from(s, 'base64url');
  if (signature.length !== SIGNATURE_BYTES[alg as AllowedAlg] || signature.toString('base64url') !== s)
    throw new JwsError('ERR_JWS_SIGNATURE', 'signature has the wrong length or encoding');
  return { header, payload, alg: alg as AllowedAlg, signingInput: `${h}.${p}`, signature };
}

/** Verifies the signature with `key`, which must match the algorithm named in the header. */
export function verifyJwsSignature(jws: ParsedJws, key: KeyObject): void {
  if (!keyFitsAlg(key, jws.alg)) throw new JwsError('ERR_JWS_ALG', `key type does not match alg ${jws.alg}`);
  const data = Buffer.from(jws.signingInput);
  const ok =
    jws.alg === 'ES256'
      ? verify('sha256', data, { key, dsaEncoding: 'ieee-p1363' }, jws.signature)
      : verify(null, data, key, jws.signature);
  if (!ok) throw new JwsError('ERR_JWS_SIGNATURE', 'signature does not verify');
}

export function keyFitsAlg(key: KeyObject, alg: AllowedAlg): boolean {
  if (alg === 'ES256') return key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1';
  return key.asymmetricKeyType === 'ed25519';
}

/** Imports a public JWK (EC P-256 or OKP Ed25519) as a node:crypto key. */
export function importPublicJwk(jwk: Record<string, unknown>): KeyObject {
  const members = jwk.kty === 'EC' ? { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y } : { kty: jwk.kty, crv: jwk.crv, x: jwk.x };
  return createPublicKey({ key: members as never, format: 'jwk' });
}

function decodeObject(segment: string, code: JwsFault, what: string): Record<string, unknown> {
  const bytes = Buffer.from(segment, 'base64url');
  if (bytes.toString('base64url') !== segment) throw new JwsError(code, `${what} is not canonical base64url`);
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch {
    throw new JwsError(code, `${what} is not UTF-8 JSON`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new JwsError(code, `${what} is not a JSON object`);
  return value as Record<string, unknown>;
}
