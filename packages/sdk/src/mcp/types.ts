import type { HeaderBag } from '../util/headers.ts';
import type { VerifiedRequest } from '../resource/verifier.ts';

/**
 * The parts of a node:http `IncomingMessage` the guard reads (structural: neither node:http nor
 * the MCP SDK is imported). `auth` is where the MCP SDK's Node transport looks for `AuthInfo`.
 *
 * @example
 * ```ts
 * createServer((req, res) => void guard.handle(req, res, transportFor)); // req: IncomingMessage
 * ```
 */
export interface McpNodeRequest extends AsyncIterable<Uint8Array | string> {
  method?: string | undefined;
  url?: string | undefined;
  headers: HeaderBag;
  auth?: McpAuthInfo;
}

/**
 * The parts of a node:http `ServerResponse` the guard writes.
 *
 * @example
 * ```ts
 * createServer((req, res) => void guard.handle(req, res, transportFor)); // res: ServerResponse
 * ```
 */
export interface McpNodeResponse {
  readonly headersSent?: boolean;
  setHeader(name: string, value: string): unknown;
  writeHead(status: number, headers: Record<string, string>): unknown;
  end(body?: string): unknown;
}

/**
 * The MCP SDK's `AuthInfo` (server/auth/types), as the guard fills it: `clientId` is the agent,
 * `scopes` the approved actions, `extra.mandate` the whole `VerifiedRequest`.
 *
 * @example
 * ```ts
 * server.registerTool('read_items', {}, async (_args, extra) => ({ content: [{ type: 'text', text: extra.authInfo?.clientId ?? '' }] }));
 * ```
 */
export interface McpAuthInfo {
  token: string;
  clientId: string;
  scopes: string[];
  expiresAt?: number;
  resource?: URL;
  extra?: Record<string, unknown>;
}

/** A JSON-RPC 2.0 message as the MCP transports carry it (only the members the guard reads). */
export interface JsonRpcMessage {
  jsonrpc?: unknown;
  id?: unknown;
  method?: unknown;
  params?: unknown;
  result?: unknown;
  error?: unknown;
}

/**
 * What the guard needs of the MCP SDK's `StreamableHTTPServerTransport` (structural).
 *
 * @example
 * ```ts
 * const transport: McpHttpTransport = new StreamableHTTPServerTransport({ sessionIdGenerator: randomUUID });
 * ```
 */
export interface McpHttpTransport {
  /** Set by a stateful transport once `initialize` opened a session. */
  readonly sessionId?: string | undefined;
  handleRequest(req: never, res: never, parsedBody?: unknown): Promise<void>;
  send(message: never, options?: never): Promise<void>;
}

/**
 * What the guard passes to a transport resolver: the session the request names (if any), its
 * messages (POST only) and the verified token.
 *
 * @example
 * ```ts
 * const resolve = ({ sessionId }: GuardedRequest) => (sessionId ? sessions.get(sessionId) : newSession());
 * ```
 */
export interface GuardedRequest {
  sessionId: string | undefined;
  messages: JsonRpcMessage[];
  mandate: VerifiedRequest;
}

/**
 * Usually a function choosing the transport per request: a session's transport, a new one for
 * `initialize`, or (stateless) a new one every time, since the MCP SDK refuses to reuse a
 * stateless transport. `undefined` answers 404 `Session not found`. A transport object is used
 * for every request as is.
 *
 * @example
 * ```ts
 * await guard.handle(req, res, ({ sessionId }) => (sessionId ? sessions.get(sessionId) : openSession()));
 * ```
 */
export type TransportSource = McpHttpTransport | ((request: GuardedRequest) => McpHttpTransport | undefined | Promise<McpHttpTransport | undefined>);
