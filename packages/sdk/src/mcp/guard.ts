import { VerifierError } from '../resource/errors.ts';
import { protectedResourceMetadata } from '../resource/metadata.ts';
import type { VerifiedRequest } from '../resource/verifier.ts';
import { headerValues } from '../util/headers.ts';
import { readJsonBody } from './body.ts';
import { errorBody, isRequest, MCP_ERROR_CODE, messagesOf } from './messages.ts';
import { resourceMetadataUrl } from './metadata.ts';
import { checkGuardOptions, type McpGuardOptions } from './options.ts';
import { rejectRequest, rejectToken, reply } from './responses.ts';
import { createSessionBinding } from './session-binding.ts';
import { findRefusal } from './tool-access.ts';
import { createToolsListFilter } from './tools-list-filter.ts';
import type { JsonRpcMessage, McpAuthInfo, McpHttpTransport, McpNodeRequest, McpNodeResponse, TransportSource } from './types.ts';

/**
 * Mandate in front of an MCP server's Streamable HTTP endpoint. See `createMcpGuard`.
 *
 * @example
 * ```ts
 * createServer((req, res) => void guard.handle(req, res, transportFor)).listen(3000);
 * ```
 */
export interface McpGuard {
  /** Where this server's RFC 9728 metadata is published (also sent in every challenge). */
  readonly resourceMetadataUrl: string;
  /** The RFC 9728 metadata document served there. */
  readonly metadata: Record<string, unknown>;
  /** Serves the metadata, guards the MCP endpoint and hands accepted requests to the transport; never throws. */
  handle(req: McpNodeRequest, res: McpNodeResponse, transport: TransportSource): Promise<void>;
}

const NOT_FOUND = JSON.stringify({ error: 'not_found' });
const SESSION_NOT_FOUND = errorBody(MCP_ERROR_CODE.sessionNotFound, 'Session not found');

const pathOf = (url: string | undefined) => (url ?? '/').split(/[?#]/, 1)[0]!;
const single = (req: McpNodeRequest, name: string) => headerValues(req.headers, name).join(', ') || undefined;

/** MCP's `AuthInfo` for tool handlers: the agent, the approved actions and the whole verified request. */
function authInfoOf(req: McpNodeRequest, mandate: VerifiedRequest): McpAuthInfo {
  const token = single(req, 'authorization')!.trim().split(/ +/)[1]!;
  const aud = mandate.task.locations?.[0];
  return {
    token, clientId: mandate.agentId, scopes: [...mandate.task.actions], expiresAt: mandate.claims.exp,
    ...(aud && URL.canParse(aud) ? { resource: new URL(aud) } : {}),
    extra: { mandate },
  };
}

/**
 * Puts Mandate in front of an MCP server built with `@modelcontextprotocol/sdk` and served over
 * Streamable HTTP on node:http. Every request to the endpoint is verified (DPoP-bound token, via
 * the SDK verifier); `tools/call` needs the action its tool maps to; `tools/list` shows only the
 * tools the mandate allows; a session stays with the caller that opened it; the RFC 9728 metadata
 * is served, and every challenge points to it (`resource_metadata`). Nothing from the MCP SDK is
 * imported: the transport is used through its public methods.
 *
 * @example
 * ```ts
 * import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
 *
 * const guard = createMcpGuard({
 *   verifier: createVerifier({ issuer, audience: 'https://mcp.example.com/mcp', jwks: `${issuer}/jwks`, publicUrl: 'https://mcp.example.com' }),
 *   authorizationServers: [issuer],
 *   tools: { read_items: 'read', delete_item: 'write' },
 * });
 * // Stateless: a server and a transport per request (see examples/mcp for sessions).
 * const perRequest = async () => {
 *   const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
 *   await buildItemsServer().connect(transport); // an McpServer with read_items and delete_item
 *   return transport;
 * };
 * createServer((req, res) => void guard.handle(req, res, perRequest)).listen(3000);
 * ```
 */
export function createMcpGuard(options: McpGuardOptions): McpGuard {
  checkGuardOptions(options);
  const { verifier } = options;
  const path = options.path ?? '/mcp';
  const resource = options.resource ?? verifier.audience;
  const metadataUrl = options.resourceMetadataUrl ?? resourceMetadataUrl(resource);
  const metadataPath = new URL(metadataUrl).pathname;
  const metadata = protectedResourceMetadata({ resource, authorizationServers: options.authorizationServers, ...(options.metadata ? { extra: options.metadata } : {}) });
  const metadataBody = JSON.stringify(metadata);
  const rules = { tools: options.tools, ...(options.methods ? { methods: options.methods } : {}) };
  const listFilter = options.filterToolsList === false ? undefined : createToolsListFilter(rules);
  const sessions = createSessionBinding(options.maxSessions ?? 10_000);
  const maxBody = options.maxBodyBytes ?? 1024 * 1024;

  const serveMetadata = (req: McpNodeRequest, res: McpNodeResponse) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return reply(res, 405, JSON.stringify({ error: 'method_not_allowed' }), { allow: 'GET, HEAD' });
    res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'public, max-age=300' });
    res.end(req.method === 'HEAD' ? undefined : metadataBody);
  };

  const authenticate = async (req: McpNodeRequest, res: McpNodeResponse): Promise<VerifiedRequest | undefined> => {
    try {
      return await verifier.verifyRequest({ method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headers });
    } catch (error) {
      if (!(error instanceof VerifierError)) throw error;
      rejectToken(res, error, metadataUrl);
      return undefined;
    }
  };

  /** POST carries JSON-RPC messages; GET (the server's stream) and DELETE (end the session) carry none. */
  const readMessages = async (req: McpNodeRequest, res: McpNodeResponse): Promise<{ body?: unknown; messages: JsonRpcMessage[] } | undefined> => {
    if (req.method !== 'POST') return { messages: [] };
    const body = await readJsonBody(req, maxBody);
    if (!body.ok) return void reply(res, body.status, errorBody(body.code, body.message), body.status === 413 ? { connection: 'close' } : {});
    const messages = messagesOf(body.value);
    if (!messages) return void reply(res, 400, errorBody(MCP_ERROR_CODE.invalidRequest, 'Invalid Request: not a JSON-RPC message or batch'));
    return { body: body.value, messages };
  };

  const serveMcp = async (req: McpNodeRequest, res: McpNodeResponse, source: TransportSource) => {
    if (options.dpopNonce) res.setHeader('DPoP-Nonce', await verifier.nonce());
    const mandate = await authenticate(req, res);
    if (!mandate) return;
    const read = await readMessages(req, res);
    if (!read) return;
    const refusal = findRefusal(mandate, read.messages, rules);
    if (refusal) return rejectRequest(res, refusal, metadataUrl);
    const sessionId = single(req, 'mcp-session-id');
    const transport = typeof source === 'function' ? await source({ sessionId, messages: read.messages, mandate }) : source;
    if (!transport || (sessionId !== undefined && !sessions.admits(sessionId, mandate))) return reply(res, 404, SESSION_NOT_FOUND);
    for (const message of read.messages) if (listFilter && isRequest(message, 'tools/list')) listFilter.expect(transport, message.id, mandate);
    req.auth = authInfoOf(req, mandate);
    await transport.handleRequest(req as never, res as never, read.body);
    // A session opened by this request belongs to its caller from the start.
    if (sessionId === undefined && typeof transport.sessionId === 'string') sessions.bind(transport.sessionId, mandate);
  };

  const route = async (req: McpNodeRequest, res: McpNodeResponse, source: TransportSource) => {
    const target = pathOf(req.url);
    if (target === metadataPath) return serveMetadata(req, res);
    if (target !== path) return reply(res, 404, NOT_FOUND);
    return serveMcp(req, res, source);
  };

  return {
    resourceMetadataUrl: metadataUrl,
    metadata,
    async handle(req, res, source) {
      try {
        await route(req, res, source);
      } catch (error) {
        options.onError?.(error);
        try {
          if (!res.headersSent) reply(res, 500, errorBody(MCP_ERROR_CODE.internalError, 'Internal error'));
        } catch {
          // The response was already under way: nothing more can be said on it.
        }
      }
    },
  };
}
