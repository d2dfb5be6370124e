import { VerifierError } from './errors.ts';
import type { IntrospectionOptions } from './options.ts';
import { ExpiringMap } from '../util/expiring-map.ts';

export interface IntrospectionCheck {
  /** Rejects with `ERR_TOKEN_REVOKED` when the broker says the token is no longer active. */
  check(token: string, claims: { jti: string; exp: number }, nowMs: number): Promise<void>;
}

const CACHE_LIMIT = 10_000;

/**
 * RFC 7662 with PROTOCOL §7's cache rule: `active: true` is trusted for at most `cacheTtlSeconds`
 * and never past `exp`; that TTL is the revocation bound. `active: false` is final (a token never
 * becomes active again) and is kept until `exp`. An unreachable endpoint fails closed (503).
 */
export function createIntrospection(options: IntrospectionOptions, fetchImpl: typeof fetch): IntrospectionCheck {
  const ttlMs = (options.cacheTtlSeconds ?? 30) * 1000;
  const cache = new ExpiringMap<{ active: boolean; until: number }>(CACHE_LIMIT);
  // RFC 6749 §2.3.1: both parts are form-urlencoded before Basic encoding.
  const basic = `Basic ${btoa(`${formEncode(options.clientId)}:${formEncode(options.clientSecret)}`)}`;

  const ask = async (token: string): Promise<boolean> => {
    let response: Response;
    try {
      response = await fetchImpl(options.endpoint, {
        method: 'POST',
        headers: { authorization: basic, 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        body: new URLSearchParams({ token, token_type_hint: 'access_token' }).toString(),
        redirect: 'error',
      });
    } catch (error) {
      throw new VerifierError('ERR_INTROSPECTION_UNAVAILABLE', 'the introspection endpoint is unreachable', { cause: error });
    }
    const body = (await response.json().catch(() => null)) as { active?: unknown } | null;
    if (!response.ok || typeof body?.active !== 'boolean')
      throw new VerifierError('ERR_INTROSPECTION_UNAVAILABLE', `the introspection endpoint answered HTTP ${response.status}`);
    return body.active;
  };

  return {
    async check(token, claims, nowMs) {
      const cached = cache.live(claims.jti, nowMs);
      let active: boolean;
      if (cached) active = cached.active;
      else {
        active = await ask(token);
        cache.set(claims.jti, { active, until: active ? Math.min(nowMs + ttlMs, claims.exp * 1000) : claims.exp * 1000 }, nowMs);
      }
      if (!active) throw new VerifierError('ERR_TOKEN_REVOKED', 'the access token is no longer active');
    },
  };
}

function formEncode(value: string): string {
  return new URLSearchParams({ v: value }).toString().slice(2);
}
