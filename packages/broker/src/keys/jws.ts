import { createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import type { PublicJwk } from '../core/model.ts';

/**
 * Compact JWS with ES256 on cached node:crypto KeyObjects: the hot path avoids jose's per-call
 * key import. Verification here is for the broker's own artefacts (audit heads); tokens from
 * outside are verified with explicit algorithm allow-lists elsewhere.
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

/** Verifies an ES256 compact JWS against `keyFor(kid)`; returns null on any failure. */
export function verifyCompact(jws: string, keyFor: (kid: string) => KeyObject | null): VerifiedCompact | null {
  const parts = jws.split('.');
  if (parts.length !== 3) return null;
  const [h, p, s] = parts as [string, string, string];
  try {
    const header = JSON.parse(Buffer.from(h, 'base64url').toString('utf8')) as Record<string, unknown>;
    if (header.alg !== 'ES256' || typeof header.kid !== 'string') return null;
    const key = keyFor(header.kid);
    if (!key) return null;
    const ok = verify('sha256', Buffer.from(`${h}.${p}`), { key, dsaEncoding: 'ieee-p1363' }, Buffer.from(s, 'base64url'));
    if (!ok) return null;
    return { header, payload: JSON.parse(Buffer.from(p, 'base64url').toString('utf8')) as Record<string, unknown> };
  } catch {
    return null;
  }
}

export const privateKeyFromJwk = (jwk: PublicJwk & { d: string }): KeyObject => createPrivateKey({ key: jwk as never, format: 'jwk' });
export const publicKeyFromJwk = (jwk: PublicJwk): KeyObject => createPublicKey({ key: jwk as never, format: 'jwk' });
