import { timingSafeEqual } from 'node:crypto';
import { JWT_TYP } from '@mandate/sdk/protocol';
import { MandateError } from '../core/errors.ts';
import { effectiveStatus } from '../core/mandate.ts';
import { JwsError, parseJws, verifyJwsSignature } from '../proof/jws.ts';
import { approverIsActive, sha256b64url, type LoopDeps } from './loop-deps.ts';

export interface IntrospectionCaller {
  clientId: string | undefined;
  secret: string | undefined;
}

const INACTIVE = { active: false } as const;

/**
 * RFC 7662 with PROTOCOL §7: only an audience's own credential may ask, and only about tokens
 * for that audience; mandate grants are never active here. Anything else is `active: false`.
 */
export function createIntrospectionService(deps: LoopDeps) {
  const { store, clock, config, keys } = deps;

  const authenticateAudience = (caller: IntrospectionCaller): string => {
    const audience = caller.clientId && Object.hasOwn(config.audiences, caller.clientId) ? config.audiences[caller.clientId] : undefined;
    const expected = audience?.introspectionSecretSha256;
    const given = caller.secret === undefined ? undefined : sha256b64url(caller.secret);
    // Both are base64url SHA-256 digests (43 characters; the config schema checks `expected`).
    if (!expected || !given || given.length !== expected.length || !timingSafeEqual(Buffer.from(given), Buffer.from(expected)))
      throw new MandateError('ERR_INTROSPECT_CLIENT', 'resource server authentication failed');
    return caller.clientId!;
  };

  const verifiedClaims = (token: string): Record<string, unknown> | null => {
    try {
      const jws = parseJws(token);
      const key = typeof jws.header.kid === 'string' ? keys.verificationKey(jws.header.kid) : null;
      if (!key || jws.header.typ !== JWT_TYP.accessToken) return null;
      verifyJwsSignature(jws, key);
      return jws.payload;
    } catch (error) {
      if (error instanceof JwsError) return null;
      throw error;
    }
  };

  const stillValid = async (claims: Record<string, unknown>, audience: string) => {
    if (claims.iss !== config.issuer || claims.aud !== audience) return false;
    if (typeof claims.exp !== 'number' || claims.exp * 1000 <= clock.now() || typeof claims.jti !== 'string') return false;
    const credential = await store.credentials.get(claims.jti);
    if (!credential || credential.revokedAt !== null) return false;
    const agent = await store.agents.get(credential.agentId);
    if (!agent || agent.status !== 'active') return false;
    if (credential.mandateId === null) return true;
    const mandate = await store.mandates.get(credential.mandateId);
    // An exhausted mandate mints no more, but its last tokens stay valid until they expire.
    if (!mandate || !['active', 'exhausted'].includes(effectiveStatus(mandate, clock.now()))) return false;
    return approverIsActive(store, mandate.approverId);
  };

  return async function introspect(caller: IntrospectionCaller, token: string | undefined): Promise<Record<string, unknown>> {
    const audience = authenticateAudience(caller);
    if (!token) throw new MandateError('ERR_REQUEST_MISSING_PARAMETER', 'token is required', { parameter: 'token' });
    const claims = verifiedClaims(token);
    if (!claims || !(await stillValid(claims, audience))) return INACTIVE;
    const { iss, sub, aud, exp, iat, jti, cnf, act, client_id, authorization_details, sub_profile } = claims;
    return { active: true, token_type: 'DPoP', iss, sub, aud, exp, iat, jti, cnf, client_id, authorization_details, ...(act ? { act } : { sub_profile }) };
  };
}
