import { createHash } from 'node:crypto';
import type { PublicJwk } from '../core/model.ts';

/** RFC 7638 thumbprint of an EC or OKP key (required members in lexicographic order). */
export function thumbprint(jwk: PublicJwk): string {
  const members = jwk.kty === 'OKP' ? { crv: jwk.crv, kty: jwk.kty, x: jwk.x } : { crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y };
  return createHash('sha256').update(JSON.stringify(members)).digest('base64url');
}
