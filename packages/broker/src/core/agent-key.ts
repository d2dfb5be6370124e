import { MandateError } from './errors.ts';
import type { PublicJwk } from './model.ts';

/**
 * The public key an agent authenticates with (`private_key_jwt`, RFC 7523): an EC P-256 or an
 * OKP Ed25519 public JWK (RFC 7517, RFC 8037). Pure shape checks only; the caller still imports
 * the key to be sure it is a real point.
 */

/** Members that only a private or symmetric key has (RFC 7518 §6.2.2, §6.3.2, §6.4; RFC 8037 §2). */
/** JWK members that carry private key material (RFC 7518 §6.2.2, §6.3.2, §6.4). */
export const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'] as const;

/** 32 bytes in unpadded base64url: 43 characters, the last one carrying 2 zero padding bits. */
const COORDINATE = /^[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]$/;

const CURVES = {
  EC: { crv: 'P-256', alg: 'ES256', members: ['x', 'y'] },
  OKP: { crv: 'Ed25519', alg: 'EdDSA', members: ['x'] },
} as const;

type Kty = keyof typeof CURVES;

const invalid = (reason: string, message: string) => new MandateError('ERR_AGENT_JWK_INVALID', message, { reason });

/** Returns the key reduced to its known public members, or throws `ERR_AGENT_JWK_INVALID`. */
export function parseAgentJwk(value: unknown): PublicJwk {
  const jwk = requireObject(value);
  rejectPrivateMembers(jwk);
  const kty = requireKty(jwk.kty);
  const curve = CURVES[kty];
  if (jwk.crv !== curve.crv) throw invalid('crv', `crv must be ${curve.crv} for kty ${kty}`);
  for (const member of curve.members) requireCoordinate(jwk, member);
  if (kty === 'OKP' && jwk.y !== undefined) throw invalid('y', 'an OKP key has no y member');
  const optional = optionalMembers(jwk, curve.alg);
  return { kty, crv: curve.crv, ...pick(jwk, curve.members), ...optional };
}

function requireObject(value: unknown): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalid('shape', 'jwk must be a JSON object');
  return value as Record<string, unknown>;
}

function rejectPrivateMembers(jwk: Record<string, unknown>): void {
  const found = PRIVATE_MEMBERS.find((member) => Object.hasOwn(jwk, member));
  if (found) throw invalid('private', `jwk must be a public key: member "${found}" is not allowed`);
}

function requireKty(kty: unknown): Kty {
  if (kty === 'EC' || kty === 'OKP') return kty;
  throw invalid('kty', 'kty must be EC (P-256) or OKP (Ed25519)');
}

function requireCoordinate(jwk: Record<string, unknown>, member: string): void {
  const value = jwk[member];
  if (typeof value !== 'string') throw invalid(member, `${member} is required`);
  if (!COORDINATE.test(value)) throw invalid(member, `${member} must be 32 bytes in base64url without padding`);
}

function optionalMembers(jwk: Record<string, unknown>, alg: string): Partial<PublicJwk> {
  const out: Partial<PublicJwk> = {};
  if (jwk.alg !== undefined) {
    if (jwk.alg !== alg) throw invalid('alg', `alg must be ${alg} for this key`);
    out.alg = alg;
  }
  if (jwk.use !== undefined) {
    if (jwk.use !== 'sig') throw invalid('use', 'use must be sig');
    out.use = 'sig';
  }
  if (jwk.kid !== undefined) {
    if (typeof jwk.kid !== 'string' || jwk.kid.length === 0 || jwk.kid.length > 200) throw invalid('kid', 'kid must be a string of 1 to 200 characters');
    out.kid = jwk.kid;
  }
  return out;
}

function pick(jwk: Record<string, unknown>, members: readonly string[]): Record<string, string> {
  return Object.fromEntries(members.map((member) => [member, jwk[member] as string]));
}
