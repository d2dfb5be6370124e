import { timingSafeEqual } from 'node:crypto';
import { MandateError } from '../../core/errors.ts';
import { sha256b64url } from '../../services/loop-deps.ts';
import type { RouteContext } from '../route-spec.ts';

/**
 * PROTOCOL §7: SSF stream management is authenticated by the audience's own credential, the one
 * `/introspect` takes, as HTTP Basic (RFC 6749 §2.3.1: both parts form-urlencoded). Returns the
 * audience; the secret is compared as a SHA-256 digest in constant time.
 */
export function authenticateAudience(ctx: RouteContext): string {
  const match = /^Basic ([A-Za-z0-9+/]+={0,2})$/.exec(ctx.request.headers.authorization ?? '');
  const decoded = match ? Buffer.from(match[1]!, 'base64').toString('utf8') : '';
  const colon = decoded.indexOf(':');
  const [clientId, secret] = colon < 0 ? ['', ''] : [formDecode(decoded.slice(0, colon)), formDecode(decoded.slice(colon + 1))];
  const audiences = ctx.deps.config.audiences;
  const expected = clientId && Object.hasOwn(audiences, clientId) ? audiences[clientId]?.introspectionSecretSha256 : undefined;
  const given = secret ? sha256b64url(secret) : '';
  if (!expected || given.length !== expected.length || !timingSafeEqual(Buffer.from(given), Buffer.from(expected)))
    throw new MandateError('ERR_SSF_UNAUTHENTICATED', 'resource server authentication failed');
  return clientId!;
}

function formDecode(text: string): string {
  try {
    return decodeURIComponent(text.replace(/\+/g, ' '));
  } catch {
    return '';
  }
}
