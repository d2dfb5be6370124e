// The guard in front of a real MCP server (McpServer + StreamableHTTPServerTransport, stateful
// sessions) on loopback, called by a real MCP client whose fetch signs DPoP proofs. Tokens and
// proofs are made at test time with jose (test/support/keys.ts); no broker is involved.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport, StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { JWTPayload } from 'jose';
import { z } from 'zod';
import { listen } from '../../test/support/http.ts';
import { AGENT, AUDIENCE, delegatedClaims, HUMAN, ISSUER, makeKey, signProof, signToken, type TestKey } from '../../test/support/keys.ts';
import { createVerifier } from '../resource/verifier.ts';
import { createMcpGuard, type McpGuard } from './guard.ts';
import { mandateOf } from './mandate-of.ts';
import { MCP_ERROR_CODE } from './messages.ts';
import type { McpGuardOptions } from './options.ts';

const now = () => Math.floor(Date.now() / 1000);
let issuerKey: TestKey;
let dpop: TestKey;
let otherDpop: TestKey;
let server: Awaited<ReturnType<typeof listen>>;
let endpoint: string;
let errors: unknown[] = [];

/** The task of `delegatedClaims`: actions issues:read and issues:comment, datatype issue, identifier acme/agent. */
const TOOLS: McpGuardOptions['tools'] = {
  read_items: 'issues:read',
  comment: { action: 'issues:comment', datatype: 'issue', identifier: (args) => String(args.repo) },
  delete_item: 'issues:write',
};

function buildServer(): McpServer {
  const mcp = new McpServer({ name: 'items', version: '1.0.0' });
  const text = (value: unknown) => ({ content: [{ type: 'text' as const, text: JSON.stringify(value) }] });
  mcp.registerTool('read_items', { description: 'List the items' }, async (extra) => {
    const mandate = mandateOf(extra.authInfo);
    return text({ items: ['a', 'b'], agent: mandate?.agentId, subject: mandate?.subject, scopes: extra.authInfo?.scopes });
  });
  mcp.registerTool('comment', { inputSchema: { repo: z.string(), text: z.string() } }, async ({ repo }) => text({ commented: repo }));
  mcp.registerTool('delete_item', { inputSchema: { id: z.string() } }, async ({ id }) => text({ deleted: id }));
  mcp.registerTool('secret_tool', { description: 'Not mapped to any action' }, async () => text({ secret: true }));
  return mcp;
}

/** Stateful sessions: a new server and transport for `initialize`, the session's transport after. */
const sessions = new Map<string, StreamableHTTPServerTransport>();
async function transportFor({ sessionId }: { sessionId: string | undefined }) {
  if (sessionId !== undefined) return sessions.get(sessionId);
  const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: randomUUID, onsessioninitialized: (id) => void sessions.set(id, transport) });
  await buildServer().connect(transport);
  return transport;
}

let guard: McpGuard | undefined;
function makeGuard(publicUrl: string, options: Partial<McpGuardOptions> = {}): McpGuard {
  const verifier = createVerifier({ issuer: ISSUER, audience: AUDIENCE, jwks: { keys: [issuerKey.publicJwk] } as never, publicUrl, ...(options.dpopNonce ? { requireNonce: true } : {}) });
  return createMcpGuard({ verifier, authorizationServers: [ISSUER], tools: TOOLS, onError: (e) => void errors.push(e), ...options });
}

/** A second server with its own guard options (and transport source) for one test. */
async function withServer(options: Partial<McpGuardOptions>, run: (url: string) => Promise<void>, source: Parameters<McpGuard['handle']>[2] = transportFor) {
  let local: McpGuard | undefined;
  const other = await listen((req, res) => void (local ??= makeGuard(other.url, options)).handle(req, res, source));
  try {
    await run(`${other.url}/mcp`);
  } finally {
    await other.close();
  }
}

before(async () => {
  [issuerKey, dpop, otherDpop] = await Promise.all([makeKey('ES256', 'k1'), makeKey('ES256'), makeKey('EdDSA')]);
  server = await listen((req, res) => void (guard ??= makeGuard(server.url)).handle(req, res, transportFor));
  endpoint = `${server.url}/mcp`;
});
after(async () => {
  for (const transport of sessions.values()) await transport.close();
  await server.close();
});

async function token(key = dpop, overrides: Record<string, unknown> = {}) {
  return signToken(issuerKey, 'k1', delegatedClaims(now(), key.jkt, overrides) as JWTPayload);
}

/** A fetch that sends `token` with a fresh proof by `key` (what an agent client does). */
function dpopFetch(key: TestKey, accessToken: () => string) {
  return async (url: string | URL, init: RequestInit = {}) => {
    const headers = new Headers(init.headers);
    headers.set('authorization', `DPoP ${accessToken()}`);
    headers.set('dpop', await signProof(key, { htm: init.method ?? 'GET', htu: String(url).split('?')[0]!, iat: now(), token: accessToken() }));
    return fetch(url, { ...init, headers });
  };
}

async function connect(key = dpop, overrides: Record<string, unknown> = {}) {
  const accessToken = await token(key, overrides);
  const transport = new StreamableHTTPClientTransport(new URL(endpoint), { fetch: dpopFetch(key, () => accessToken) });
  const client = new Client({ name: 'test-agent', version: '1.0.0' });
  await client.connect(transport);
  return { client, transport };
}

/** A raw JSON-RPC POST with a valid token and proof. */
async function post(body: unknown, headers: Record<string, string> = {}, key = dpop) {
  const accessToken = await token(key);
  const raw = typeof body === 'string' ? body : JSON.stringify(body);
  return dpopFetch(key, () => accessToken)(endpoint, { method: 'POST', body: raw, headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers } });
}

const call = (name: string, args: Record<string, unknown> = {}, id: number | string = 7) => ({ jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: args } });
const metadataUrl = () => `${AUDIENCE}/.well-known/oauth-protected-resource`;

async function assertRefused(response: Response, id: unknown, data: Record<string, unknown>, message: RegExp) {
  assert.equal(response.status, 403);
  const challenge = response.headers.get('www-authenticate')!;
  assert.match(challenge, /^DPoP error="insufficient_scope", error_description="[^"]+", algs="ES256 EdDSA", resource_metadata="([^"]+)"$/);
  assert.equal(/resource_metadata="([^"]+)"/.exec(challenge)![1], metadataUrl());
  const body = (await response.json()) as { jsonrpc: string; id: unknown; error: { code: number; message: string; data: unknown } };
  assert.equal(body.jsonrpc, '2.0');
  assert.equal(body.id, id);
  assert.equal(body.error.code, MCP_ERROR_CODE.forbidden);
  assert.match(body.error.message, message);
  assert.deepEqual(body.error.data, data);
}

describe('createMcpGuard: accepted requests', () => {
  test('an MCP client with a DPoP-bound token lists only the tools its mandate allows and calls one', async () => {
    const { client } = await connect();
    const { tools } = await client.listTools();
    assert.deepEqual(tools.map((t) => t.name).sort(), ['comment', 'read_items'], 'delete_item (issues:write) and the unmapped secret_tool are hidden');
    const result = await client.callTool({ name: 'read_items', arguments: {} });
    const content = result.content as Array<{ text: string }>;
    assert.deepEqual(JSON.parse(content[0]!.text), { items: ['a', 'b'], agent: AGENT, subject: HUMAN, scopes: ['issues:read', 'issues:comment'] });
    const commented = await client.callTool({ name: 'comment', arguments: { repo: 'acme/agent', text: 'hi' } });
    assert.deepEqual(JSON.parse((commented.content as Array<{ text: string }>)[0]!.text), { commented: 'acme/agent' });
    await client.close();
  });

  test('the RFC 9728 metadata is served where the resource identifier says (GET and HEAD)', async () => {
    const response = await fetch(`${server.url}/.well-known/oauth-protected-resource`);
    assert.equal(response.status, 200);
    const body = (await response.json()) as Record<string, unknown>;
    assert.equal(body.resource, AUDIENCE);
    assert.deepEqual(body.authorization_servers, [ISSUER]);
    assert.equal(body.dpop_bound_access_tokens_required, true);
    assert.deepEqual(body.authorization_details_types_supported, ['agent-task']);
    const head = await fetch(`${server.url}/.well-known/oauth-protected-resource`, { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal((await fetch(`${server.url}/.well-known/oauth-protected-resource`, { method: 'POST' })).status, 405);
  });

  test('with tools/list filtering off every registered tool is listed; calls are still checked', async () => {
    await withServer({ filterToolsList: false }, async (url) => {
      const accessToken = await token();
      const client = new Client({ name: 'test-agent', version: '1.0.0' });
      await client.connect(new StreamableHTTPClientTransport(new URL(url), { fetch: dpopFetch(dpop, () => accessToken) }));
      assert.deepEqual((await client.listTools()).tools.map((t) => t.name).sort(), ['comment', 'delete_item', 'read_items', 'secret_tool']);
      await assert.rejects(client.callTool({ name: 'delete_item', arguments: { id: 'a' } }), (e: unknown) => e instanceof StreamableHTTPError && e.code === 403);
      await client.close();
    });
  });
  test('stateless (a server and transport per request): tools/list is filtered and calls are checked the same', async () => {
    const perRequest = async () => {
      const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
      await buildServer().connect(transport);
      return transport;
    };
    await withServer({}, async (url) => {
      const accessToken = await token();
      const client = new Client({ name: 'test-agent', version: '1.0.0' });
      await client.connect(new StreamableHTTPClientTransport(new URL(url), { fetch: dpopFetch(dpop, () => accessToken) }));
      assert.deepEqual((await client.listTools()).tools.map((t) => t.name).sort(), ['comment', 'read_items']);
      assert.equal((await client.callTool({ name: 'read_items', arguments: {} })).isError, undefined);
      await assert.rejects(client.callTool({ name: 'delete_item', arguments: { id: 'a' } }), (e: unknown) => e instanceof StreamableHTTPError && e.code === 403);
      await client.close();
    }, perRequest);
  });
});

describe('createMcpGuard: refused requests', () => {
  test('no token: 401 with a DPoP challenge naming resource_metadata (ERR_TOKEN_MISSING)', async () => {
    const response = await fetch(endpoint, { method: 'POST', body: JSON.stringify(call('read_items')), headers: { 'content-type': 'application/json' } });
    assert.equal(response.status, 401);
    assert.equal(response.headers.get('www-authenticate'), `DPoP algs="ES256 EdDSA", resource_metadata="${metadataUrl()}"`);
    assert.equal(response.headers.get('cache-control'), 'no-store');
  });

  test('a Bearer token: 401 invalid_token with resource_metadata (ERR_TOKEN_BEARER)', async () => {
    const response = await fetch(endpoint, { method: 'POST', body: '{}', headers: { authorization: `Bearer ${await token()}` } });
    assert.equal(response.status, 401);
    assert.match(response.headers.get('www-authenticate')!, /^DPoP error="invalid_token", .*, resource_metadata="[^"]+"$/);
    assert.equal(((await response.json()) as { error: string }).error, 'invalid_token');
  });

  test('an expired token through the MCP client: the connection is refused with 401 (ERR_TOKEN_EXPIRED)', async () => {
    await assert.rejects(connect(dpop, { exp: now() - 120 }), (error: unknown) => error instanceof StreamableHTTPError && error.code === 401 && /expired/.test(error.message));
  });

  test('tools/call of a tool whose action the task lacks: 403 insufficient_scope and a JSON-RPC error (ERR_INSUFFICIENT_SCOPE)', async () => {
    const response = await post(call('delete_item', { id: 'a' }, 'call-1'));
    await assertRefused(response, 'call-1', { method: 'tools/call', tool: 'delete_item', action: 'issues:write' }, /^tool delete_item: the task does not allow issues:write$/);
  });

  test('the MCP client sees the refusal as a 403 naming the missing action (ERR_INSUFFICIENT_SCOPE)', async () => {
    const { client } = await connect();
    await assert.rejects(client.callTool({ name: 'delete_item', arguments: { id: 'a' } }), (error: unknown) => {
      assert.ok(error instanceof StreamableHTTPError);
      assert.equal(error.code, 403);
      assert.match(error.message, /tool delete_item: the task does not allow issues:write/);
      return true;
    });
    assert.equal((await client.callTool({ name: 'read_items', arguments: {} })).isError, undefined, 'the session goes on');
    await client.close();
  });

  test('tools/call of an unmapped tool, of no tool, or sent as a notification is refused (ERR_INSUFFICIENT_SCOPE)', async () => {
    await assertRefused(await post(call('secret_tool')), 7, { method: 'tools/call', tool: 'secret_tool' }, /^tool secret_tool is not offered under a mandate$/);
    await assertRefused(await post(call('constructor')), 7, { method: 'tools/call', tool: 'constructor' }, /not offered/);
    await assertRefused(await post({ jsonrpc: '2.0', id: 8, method: 'tools/call', params: {} }), 8, { method: 'tools/call' }, /^tools\/call names no tool$/);
    await assertRefused(await post({ jsonrpc: '2.0', method: 'tools/call', params: { name: 'delete_item' } }), null, { method: 'tools/call', tool: 'delete_item', action: 'issues:write' }, /issues:write/);
  });

  test('tools/call outside the task identifier, read from the arguments (ERR_INSUFFICIENT_SCOPE)', async () => {
    const response = await post(call('comment', { repo: 'other/repo', text: 'x' }));
    await assertRefused(response, 7, { method: 'tools/call', tool: 'comment', action: 'issues:comment' }, /^tool comment: the task does not cover other\/repo$/);
  });

  test('tools/call whose rule reads an identifier the arguments do not carry (ERR_INSUFFICIENT_SCOPE)', async () => {
    await withServer({ tools: { comment: { action: 'issues:comment', datatype: 'issue', identifier: (args) => args.repo as string | undefined } } }, async (url) => {
      const accessToken = await token();
      const response = await dpopFetch(dpop, () => accessToken)(url, { method: 'POST', body: JSON.stringify(call('comment', { text: 'x' }, 5)) });
      await assertRefused(response, 5, { method: 'tools/call', tool: 'comment', action: 'issues:comment' }, /needs an identifier/);
    });
  });

  test('a batch with one call outside the mandate is refused as a whole (ERR_INSUFFICIENT_SCOPE)', async () => {
    const response = await post([call('read_items', {}, 1), call('delete_item', { id: 'a' }, 2)]);
    await assertRefused(response, 2, { method: 'tools/call', tool: 'delete_item', action: 'issues:write' }, /issues:write/);
  });

  test('a method mapped in `methods` needs its action (ERR_INSUFFICIENT_SCOPE)', async () => {
    await withServer({ methods: { 'resources/list': 'issues:admin' } }, async (url) => {
      const accessToken = await token();
      const response = await dpopFetch(dpop, () => accessToken)(url, { method: 'POST', body: JSON.stringify({ jsonrpc: '2.0', id: 3, method: 'resources/list' }) });
      await assertRefused(response, 3, { method: 'resources/list', action: 'issues:admin' }, /^method resources\/list: the task does not allow issues:admin$/);
    });
  });

  test('another caller presenting an open session id gets 404 Session not found', async () => {
    const { client, transport } = await connect();
    const sessionId = transport.sessionId!;
    const response = await post(call('read_items'), { 'mcp-session-id': sessionId }, otherDpop);
    assert.equal(response.status, 404);
    assert.deepEqual(await response.json(), { jsonrpc: '2.0', id: null, error: { code: MCP_ERROR_CODE.sessionNotFound, message: 'Session not found' } });
    assert.equal((await client.callTool({ name: 'read_items', arguments: {} })).isError, undefined, 'the owner goes on');
    await client.close();
  });

  test('an unknown session id gets 404 Session not found', async () => {
    const response = await post(call('read_items'), { 'mcp-session-id': randomUUID() });
    assert.equal(response.status, 404);
  });

  test('bodies: too large is 413, not JSON is 400 parse error, not JSON-RPC is 400 invalid request', async () => {
    const large = await post(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping', params: { pad: 'x'.repeat(1024 * 1024) } }));
    assert.equal(large.status, 413);
    assert.equal(((await large.json()) as { error: { code: number } }).error.code, MCP_ERROR_CODE.server);
    const garbled = await post('{"jsonrpc":');
    assert.equal(garbled.status, 400);
    assert.equal(((await garbled.json()) as { error: { code: number } }).error.code, MCP_ERROR_CODE.parseError);
    const notRpc = await post('[1, 2]');
    assert.equal(notRpc.status, 400);
    assert.equal(((await notRpc.json()) as { error: { code: number } }).error.code, MCP_ERROR_CODE.invalidRequest);
  });

  test('a path other than the endpoint and the metadata is 404, before any token check', async () => {
    assert.equal((await fetch(`${server.url}/other`)).status, 404);
  });

  test('a transport resolver that throws is answered 500 and reported to onError', async () => {
    errors = [];
    await withServer({}, async (url) => {
      const accessToken = await token();
      const response = await dpopFetch(dpop, () => accessToken)(url, { method: 'POST', body: JSON.stringify(call('read_items')) });
      assert.equal(response.status, 500);
      assert.equal(((await response.json()) as { error: { code: number } }).error.code, MCP_ERROR_CODE.internalError);
      assert.equal((errors[0] as Error).message, 'boom');
    }, () => Promise.reject(new Error('boom')));
  });
});

describe('createMcpGuard: DPoP nonces', () => {
  test('with dpopNonce every response carries a fresh nonce, and a proof without one is refused (ERR_DPOP_NONCE)', async () => {
    await withServer({ dpopNonce: true }, async (url) => {
      const accessToken = await token();
      const refused = await dpopFetch(dpop, () => accessToken)(url, { method: 'POST', body: JSON.stringify(call('read_items')) });
      assert.equal(refused.status, 401);
      assert.match(refused.headers.get('www-authenticate')!, /^DPoP error="use_dpop_nonce", .*resource_metadata=/);
      const nonce = refused.headers.get('dpop-nonce')!;
      assert.ok(nonce);
      const proof = await signProof(dpop, { htm: 'POST', htu: url, iat: now(), token: accessToken, claims: { nonce } });
      const accepted = await fetch(url, {
        method: 'POST', body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } } }),
        headers: { authorization: `DPoP ${accessToken}`, dpop: proof, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      });
      assert.equal(accepted.status, 200);
      assert.ok(accepted.headers.get('dpop-nonce'), 'a success carries the next nonce');
      await accepted.body?.cancel();
    });
  });
});
