import { createPrivateKey, createPublicKey, sign, type KeyObject } from 'node:crypto';
import { JwsError, parseJws, verifyJwsSignature } from '../proof/jws.ts';
import type { PublicJwk } from '../core/model.ts';

/**
 * Compact JWS with ES256 on cached node:crypto KeyObjects: the hot path avoids jose's per-call
 * key import. Verification goes through the one strict JWS module (proof/jws.ts).
 */
const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

export function signCompact(header: Record<string, unknown>, payload: Record<string, unknown>, key: KeyObject): string {
  const input = `${b64({ ...header, alg: 'ES256' })}.${b64(payload)}`;
  const signature = sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' });
  return `${input}.${signature.toString('base64url')}`;
}

export interface VerifiedCompact {
  header: Record<string, unknown>;
  payload: Record<string, unknown>;
}

/**
 * Verifies an ES256 compact JWS of the broker's own (audit heads) against `keyFor(kid)` with the
 * strict parser of proof/jws.ts; returns null on any failure.
 */
export function verifyCompact(jws: string, keyFor: (kid: string) => KeyObject | null): VerifiedCompact | null {
  try {
    const parsed = parseJws(jws);
    const key = parsed.alg === 'ES256' && typeof parsed.header.kid === 'string' ? keyFor(parsed.header.kid) : null;
    if (!key) return null;
    verifyJwsSignature(parsed, key);
    return { header: parsed.header, payload: parsed.payload };
  } catch (error) {
    if (error instanceof JwsError) return null;
    throw error;
  }
}

export const privateKeyFromJwk = (jwk: PublicJwk & { d: string }): KeyObject => createPrivateKey({ key: jwk as never, format: 'jwk' });
export const publicKeyFromJwk = (jwk: PublicJwk): KeyObject => createPublicKey({ key: jwk as never, format: 'jwk' });
