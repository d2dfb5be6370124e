import { decodeJwt } from 'jose';
import { AGENT_TASK_TYPE, type AgentTask } from '../protocol/index.ts';
import { ResponseFormatError } from '../errors.ts';
import type { Clock } from './clock.ts';
import type { JsonObject } from './transport.ts';

/**
 * An access token the client holds, with what it was issued for.
 *
 * @example
 * ```ts
 * const { accessToken, expiresAt } = await agent.getToken('https://api.example.com');
 * ```
 */
export interface TokenSet {
  accessToken: string;
  tokenType: 'DPoP';
  expiresIn: number;
  /** Epoch milliseconds. */
  expiresAt: number;
  /** The one audience the token is for. */
  resource: string;
  authorizationDetails: AgentTask[];
}

/** Parses a successful `/token` response; the token must be DPoP-bound (RFC 9449 §5). */
export function parseTokenResponse(body: JsonObject, url: string, clock: Clock): TokenSet {
  const fail = (message: string): never => {
    throw new ResponseFormatError(message, url);
  };
  if (typeof body.access_token !== 'string' || body.access_token === '') fail('token response has no access_token');
  if (typeof body.token_type !== 'string' || body.token_type.toLowerCase() !== 'dpop') fail('token_type must be DPoP');
  if (typeof body.expires_in !== 'number' || body.expires_in <= 0) fail('token response has no positive expires_in');
  const accessToken = body.access_token as string;
  const details = Array.isArray(body.authorization_details) ? (body.authorization_details as AgentTask[]) : [];
  const resource = resourceOf(details, accessToken) ?? fail('the token names no audience');
  return {
    accessToken,
    tokenType: 'DPoP',
    expiresIn: body.expires_in as number,
    expiresAt: clock.now() + (body.expires_in as number) * 1000,
    resource: resource as string,
    authorizationDetails: details,
  };
}

function resourceOf(details: AgentTask[], accessToken: string): string | undefined {
  const location = details.find((d) => d?.type === AGENT_TASK_TYPE)?.locations?.[0];
  if (typeof location === 'string') return location;
  try {
    const { aud } = decodeJwt(accessToken);
    return typeof aud === 'string' ? aud : undefined;
  } catch {
    return undefined;
  }
}
