/**
 * An MCP server with two tools guarded by Mandate: `read_items` needs the action `read`,
 * `delete_item` needs `write` (on the datatype `items`). Built with `@modelcontextprotocol/sdk`
 * (McpServer, Streamable HTTP with sessions) on node:http; `@mandate/sdk/mcp` verifies every request.
 *
 * Run it on its own against a running broker:
 *   MANDATE_ISSUER=http://localhost:7420 MCP_AUDIENCE=https://mcp.example.com/mcp \
 *   MCP_PUBLIC_URL=http://localhost:3000 MCP_PORT=3000 MANDATE_INTROSPECTION_SECRET=… \
 *   node --import tsx examples/mcp/server.ts
 */
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { z } from 'zod';
import { createVerifier } from '@mandate/sdk';
import { createMcpGuard, mandateOf, type McpGuardOptions } from '@mandate/sdk/mcp';

/** Which action of the approved task each tool needs: the one line of policy this server owns. */
export const ITEM_TOOLS = {
  read_items: 'read',
  delete_item: { action: 'write', datatype: 'items' },
} satisfies McpGuardOptions['tools'];

/** Options of `startItemsServer`. */
export interface ItemsServerOptions {
  /** The broker's issuer URL. */
  issuer: string;
  /** This server's audience at the broker (its resource identifier). */
  audience: string;
  /** This server's credential for the broker's `/introspect`, to learn of revocation before `exp`. */
  introspectionSecret: string;
  /** How long an `active` answer is trusted: the revocation bound. Default 5. */
  revocationSeconds?: number;
  /** Default: a free port on 127.0.0.1. */
  port?: number;
  /** The URL clients reach; DPoP proofs name it. Default `http://127.0.0.1:<port>`. */
  publicUrl?: string;
  /** Epoch milliseconds (tests move time forward). */
  now?: () => number;
}

type Actor = { sub: string; act?: unknown };
const isActor = (value: unknown): value is Actor => typeof (value as Actor | undefined)?.sub === 'string';

/**
 * The agents the approval passed through before the caller, nearest first: each `act` nested
 * inside the caller's (RFC 8693 §4.1). Empty for an agent acting on its own mandate.
 *
 * @example
 * ```ts
 * delegatedByOf({ sub: 'agt_child', act: { sub: 'agt_parent' } }); // ['agt_parent']
 * ```
 */
export function delegatedByOf(act: Actor | undefined): string[] {
  return isActor(act?.act) ? [act.act.sub, ...delegatedByOf(act.act)] : [];
}

/** The MCP server itself: two tools over an in-memory list, each answering who acted for whom (and through whom). */
export function buildItemsServer(items: Map<string, string>): McpServer {
  const server = new McpServer({ name: 'items', version: '1.0.0' });
  const text = (value: unknown) => ({ content: [{ type: 'text' as const, text: JSON.stringify(value) }] });
  server.registerTool('read_items', { description: 'List the items', annotations: { readOnlyHint: true } }, async (extra) => {
    const mandate = mandateOf(extra.authInfo);
    return text({ items: Object.fromEntries(items), readBy: mandate?.agentId, actingFor: mandate?.subject, delegatedBy: delegatedByOf(mandate?.claims.act) });
  });
  server.registerTool('delete_item', { description: 'Delete one item', inputSchema: { id: z.string() }, annotations: { destructiveHint: true } }, async ({ id }, extra) => {
    const deleted = items.delete(id);
    return text({ deleted, id, by: mandateOf(extra.authInfo)?.agentId });
  });
  return server;
}

/**
 * Starts the guarded MCP server on loopback: `/mcp` is the Streamable HTTP endpoint, and
 * `/.well-known/oauth-protected-resource…` its RFC 9728 metadata.
 */
export async function startItemsServer(options: ItemsServerOptions) {
  const items = new Map([['1', 'first item'], ['2', 'second item']]);
  const sessions = new Map<string, StreamableHTTPServerTransport>();
  // `initialize` opens a session with its own server and transport; later requests name it.
  const transportFor = async ({ sessionId }: { sessionId: string | undefined }) => {
    if (sessionId !== undefined) return sessions.get(sessionId);
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: randomUUID, onsessioninitialized: (id) => void sessions.set(id, transport) });
    transport.onclose = () => void sessions.delete(transport.sessionId ?? '');
    await buildItemsServer(items).connect(transport);
    return transport;
  };

  let guard: ReturnType<typeof createMcpGuard> | undefined;
  const http = createServer((req, res) => {
    if (guard) void guard.handle(req, res, transportFor);
    else res.writeHead(503, { 'retry-after': '1' }).end();
  });
  await new Promise<void>((resolve) => http.listen(options.port ?? 0, '127.0.0.1', resolve));
  const publicUrl = options.publicUrl ?? `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  const verifier = createVerifier({
    issuer: options.issuer, audience: options.audience, jwks: `${options.issuer}/jwks`, publicUrl,
    introspection: { endpoint: `${options.issuer}/introspect`, clientId: options.audience, clientSecret: options.introspectionSecret, cacheTtlSeconds: options.revocationSeconds ?? 5 },
    ...(options.now ? { now: options.now } : {}),
  });
  guard = createMcpGuard({ verifier, authorizationServers: [options.issuer], tools: ITEM_TOOLS, metadata: { resource_name: 'Items (MCP)' } });

  return {
    url: `${publicUrl}/mcp`,
    guard,
    items,
    async close() {
      for (const transport of sessions.values()) await transport.close();
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const env = (name: string) => process.env[name] ?? (console.error(`${name} is required`), process.exit(2));
  const port = Number(process.env.MCP_PORT ?? 3000);
  const started = await startItemsServer({
    issuer: env('MANDATE_ISSUER'), audience: env('MCP_AUDIENCE'), introspectionSecret: env('MANDATE_INTROSPECTION_SECRET'),
    port, publicUrl: process.env.MCP_PUBLIC_URL ?? `http://127.0.0.1:${port}`,
  });
  console.log(`items MCP server at ${started.url} (metadata: ${started.guard.resourceMetadataUrl})`);
}
