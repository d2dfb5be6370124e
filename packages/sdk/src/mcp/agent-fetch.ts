import type { AgentClient } from '../agent/client.ts';
import { ConfigurationError } from '../errors.ts';

/**
 * What `createMcpFetch` needs of an agent client (`createAgentClient`).
 *
 * @example
 * ```ts
 * const agent: McpAgent = createAgentClient({ issuer, clientId, clientKey, evidence });
 * ```
 */
export type McpAgent = Pick<AgentClient, 'fetch' | 'mint' | 'mintAutonomous' | 'grants'>;

/**
 * The `fetch` signature of the MCP SDK's transports (`FetchLike`).
 *
 * @example
 * ```ts
 * const fetch: McpFetch = createMcpFetch(agent, { resource });
 * ```
 */
export type McpFetch = (url: string | URL, init?: RequestInit) => Promise<Response>;

/** RFC 6750 §3.1 / RFC 9449 §7.1: the resource server refused the token itself. */
const INVALID_TOKEN = /(^|,)\s*DPoP\b[^]*\berror\s*=\s*"?invalid_token"?/i;

/**
 * A `fetch` for the MCP SDK's `StreamableHTTPClientTransport` that calls with the agent's
 * DPoP-bound token for `resource`: `Authorization: DPoP <token>` and a fresh proof on every
 * request (the agent client renews the token shortly before it expires, re-attesting, and answers
 * DPoP nonce challenges). When the server refuses the token itself (`invalid_token`: revoked
 * alone, or expired by its clock), one new token is minted and the request sent once more; if
 * the broker refuses that too — the mandate was revoked — its error is thrown, so the agent
 * learns why it was cut off. Bodies must be replayable (the MCP transports send strings).
 *
 * @example
 * ```ts
 * import { Client } from '@modelcontextprotocol/sdk/client/index.js';
 * import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
 *
 * const fetch = createMcpFetch(agent, { resource: 'https://mcp.example.com/mcp' });
 * const client = new Client({ name: 'triage-agent', version: '1.0.0' });
 * await client.connect(new StreamableHTTPClientTransport(new URL('https://mcp.example.com/mcp'), { fetch }));
 * ```
 */
export function createMcpFetch(agent: McpAgent, options: { resource: string }): McpFetch {
  const { resource } = options ?? {};
  if (typeof resource !== 'string' || resource === '') throw new ConfigurationError('resource (the MCP server audience) is required');
  // A grant means a human's mandate; without one the agent is autonomous (client_credentials).
  const renew = () => (agent.grants()[resource] !== undefined ? agent.mint({ resource }) : agent.mintAutonomous({ resource }));
  return async (url, init = {}) => {
    const response = await agent.fetch(url, { ...init, resource });
    if (response.status !== 401 || !INVALID_TOKEN.test(response.headers.get('www-authenticate') ?? '')) return response;
    await response.body?.cancel();
    await renew();
    return agent.fetch(url, { ...init, resource });
  };
}
