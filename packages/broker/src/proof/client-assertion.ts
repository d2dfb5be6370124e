import type { KeyObject } from 'node:crypto';
import { CLIENT_ASSERTION_TYPE } from '@mandate/sdk/protocol';
import { MandateError, type ErrorCode } from '../core/errors.ts';
import { isIdOf } from '../core/ids.ts';
import type { Agent } from '../core/model.ts';
import type { Clock } from '../ports/clock.ts';
import type { AgentRepository } from '../ports/directory.ts';
import type { ReplayCache } from '../ports/replay-cache.ts';
import { importPublicJwk, JwsError, parseJws, verifyJwsSignature, type ParsedJws } from './jws.ts';
import { isPlainJti, useOnce, type HeldIds } from './single-use.ts';

export interface ClientAuthOptions {
  agents: Pick<AgentRepository, 'get' | 'touch'>;
  /**
   * Read instead of `agents` by a request that holds its single-use ids for a token's commit
   * (`held`, POST /token): that commit checks the agent's status again under a lock, so a copy kept
   * in memory (services/read-cache.ts) can delay a refusal to the commit, never issue a token to an
   * agent that is not active. A sub-grant's issuance has no token commit: it checks that the parent
   * token is not revoked, and an agent's suspension or retirement revokes every token of the agent
   * in its own commit (services/directory.ts).
   */
  committedAgents?: Pick<AgentRepository, 'get' | 'touch'>;
  replay: ReplayCache;
  clock: Clock;
  issuer: string;
  /** Allowed clock skew in seconds for `exp`/`iat`. */
  skewSeconds: number;
}

export interface ClientAuthParams {
  client_id?: string | undefined;
  client_assertion_type?: string | undefined;
  client_assertion?: string | undefined;
}

const MAX_LIFETIME_SECONDS = 60;
const LAST_SEEN_RESOLUTION_MS = 60_000;

/**
 * PROTOCOL §2 / RFC 7523 §3: an agent authenticates with `private_key_jwt`. One linear check per
 * rule, each with its own code; every failure is 401 `invalid_client`.
 */
export function createClientAuthenticator(options: ClientAuthOptions) {
  const keyCache = new Map<string, { thumbprint: string; key: KeyObject }>();
  const keyOf = (agent: Agent) => {
    const hit = keyCache.get(agent.id);
    if (hit && hit.thumbprint === agent.jwkThumbprint) return hit.key;
    const key = importPublicJwk(agent.jwk as unknown as Record<string, unknown>);
    keyCache.set(agent.id, { thumbprint: agent.jwkThumbprint, key });
    return key;
  };

  // `cacheSize` feeds the mandate_cache_entries gauge (docs/operations.md).
  /** `held`: the request holds its single-use ids back for the token's commit (proof/single-use.ts). */
  return Object.assign(async function authenticateClient(params: ClientAuthParams, held?: HeldIds): Promise<Agent> {
    if (params.client_assertion === undefined && params.client_assertion_type === undefined)
      fail('ERR_CLIENT_AUTH_MISSING', 'private_key_jwt client authentication is required');
    if (params.client_assertion_type !== CLIENT_ASSERTION_TYPE) fail('ERR_CLIENT_ASSERTION_TYPE', `client_assertion_type must be ${CLIENT_ASSERTION_TYPE}`);
    const jws = parseAssertion(params.client_assertion);
    const typ = jws.header.typ;
    if (typ !== undefined && typ !== 'client-authentication+jwt') fail('ERR_CLIENT_ASSERTION_TYP', 'typ must be absent or client-authentication+jwt');
    const { iss, sub, aud, exp, iat, jti } = jws.payload;
    if (typeof iss !== 'string' || !isIdOf('agent', iss)) fail('ERR_CLIENT_UNKNOWN', 'iss is not an agent id');
    if (params.client_id !== undefined && params.client_id !== iss) fail('ERR_CLIENT_ID_MISMATCH', 'client_id does not match iss');
    if (sub !== iss) fail('ERR_CLIENT_ASSERTION_ISS_SUB', 'sub must equal iss');
    const agents = held && options.committedAgents ? options.committedAgents : options.agents;
    const agent = await agents.get(iss);
    if (!agent) fail('ERR_CLIENT_UNKNOWN', 'unknown client');
    verifySignature(jws, keyOf(agent));
    if (aud !== options.issuer) fail('ERR_CLIENT_ASSERTION_AUD', 'aud must be exactly the issuer');
    const now = Math.floor(options.clock.now() / 1000);
    if (typeof exp !== 'number' || typeof iat !== 'number' || exp - iat > MAX_LIFETIME_SECONDS || exp <= iat || iat > now + options.skewSeconds)
      fail('ERR_CLIENT_ASSERTION_LIFETIME', `exp and iat are required and exp - iat must be at most ${MAX_LIFETIME_SECONDS} s`);
    if (exp <= now - options.skewSeconds) fail('ERR_CLIENT_ASSERTION_EXPIRED', 'the client assertion has expired');
    if (typeof jti !== 'string' || jti.length === 0 || jti.length > 256) fail('ERR_CLIENT_ASSERTION_JTI', 'jti is required');
    if (!isPlainJti(jti)) fail('ERR_CLIENT_ASSERTION_JTI', 'jti must not hold control characters or lone surrogates');
    const claim = { namespace: 'client-assertion', id: `${iss}:${jti}`, expiresAt: (exp + options.skewSeconds) * 1000, code: 'ERR_CLIENT_ASSERTION_REPLAY', message: 'the client assertion was already used' } as const;
    // Held for the token's commit, a replayed assertion is refused there (or when a refusal is
    // answered); the rate limit gives back what it counted for it (http/rate-limit.ts `limitClient`).
    await useOnce(options.replay, claim, options.clock.now(), held);
    if (agent.status !== 'active') fail('ERR_CLIENT_INACTIVE', `the agent is ${agent.status}`);
    // Last seen (for lifecycle reviews), written at most once a minute per agent to spare the hot path.
    const nowMs = options.clock.now();
    if (agent.lastSeenAt === null || nowMs - agent.lastSeenAt >= LAST_SEEN_RESOLUTION_MS) await agents.touch(agent.id, nowMs);
    return agent;
  }, { cacheSize: () => keyCache.size });
}

function parseAssertion(assertion: string | undefined): ParsedJws {
  if (assertion === undefined) fail('ERR_CLIENT_ASSERTION_MALFORMED', 'client_assertion is required');
  try {
    return parseJws(assertion);
  } catch (error) {
    if (error instanceof JwsError) fail('ERR_CLIENT_ASSERTION_MALFORMED', error.message);
    throw error;
  }
}

function verifySignature(jws: ParsedJws, key: KeyObject): void {
  try {
    verifyJwsSignature(jws, key);
  } catch (error) {
    if (error instanceof JwsError) fail('ERR_CLIENT_ASSERTION_SIGNATURE', 'signature does not verify with the registered key');
    throw error;
  }
}

function fail(code: ErrorCode, message: string): never {
  throw new MandateError(code, message);
}
