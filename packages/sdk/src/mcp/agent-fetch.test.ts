// createMcpFetch with a stand-in agent: which resource it asks for, when it renews, what it throws.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigurationError, OAuthResponseError } from '../errors.ts';
import { createMcpFetch, type McpAgent } from './agent-fetch.ts';

const RESOURCE = 'https://mcp.example.com/mcp';
const expired = 'DPoP error="invalid_token", error_description="the access token is expired", algs="ES256 EdDSA"';
const badProof = 'DPoP error="invalid_dpop_proof", error_description="the DPoP proof was already used", algs="ES256 EdDSA"';

/** An agent whose `fetch` answers from `responses` in turn and records what it was asked. */
function standIn(responses: Array<() => Response>, options: { grant?: boolean; mintError?: Error } = {}) {
  const calls: Array<{ url: string; resource: string | undefined; body: unknown }> = [];
  const mints: string[] = [];
  const mint = async ({ resource }: { resource: string }) => {
    if (options.mintError) throw options.mintError;
    mints.push(resource);
    return {} as never;
  };
  const agent: McpAgent = {
    fetch: async (input, init) => {
      calls.push({ url: String(input), resource: init?.resource, body: init?.body });
      return responses[calls.length - 1]!();
    },
    mint,
    mintAutonomous: async ({ resource }) => {
      mints.push(`autonomous ${resource}`);
      return {} as never;
    },
    grants: (): Record<string, string> => (options.grant === false ? {} : { [RESOURCE]: 'mgr_x' }),
  };
  return { agent, calls, mints };
}

const ok = () => new Response('{}', { status: 200 });
const refused = (challenge: string) => () => new Response('{}', { status: 401, headers: { 'www-authenticate': challenge } });

test('every request goes through the agent client for the configured resource; no renewal when accepted', async () => {
  const { agent, calls, mints } = standIn([ok]);
  const response = await createMcpFetch(agent, { resource: RESOURCE })(new URL('http://127.0.0.1:1/mcp'), { method: 'POST', body: '{"a":1}' });
  assert.equal(response.status, 200);
  assert.deepEqual(calls, [{ url: 'http://127.0.0.1:1/mcp', resource: RESOURCE, body: '{"a":1}' }]);
  assert.deepEqual(mints, []);
});

test('a token the server refuses (invalid_token) is renewed once and the request sent again', async () => {
  const { agent, calls, mints } = standIn([refused(expired), ok]);
  const response = await createMcpFetch(agent, { resource: RESOURCE })('http://127.0.0.1:1/mcp', { method: 'POST', body: 'x' });
  assert.equal(response.status, 200);
  assert.equal(calls.length, 2);
  assert.equal(calls[1]!.body, 'x', 'the same body again');
  assert.deepEqual(mints, [RESOURCE]);
});

test('a second refusal is returned as is: one renewal per request, never a loop', async () => {
  const { agent, calls, mints } = standIn([refused(expired), refused(expired)]);
  const response = await createMcpFetch(agent, { resource: RESOURCE })('http://127.0.0.1:1/mcp');
  assert.equal(response.status, 401);
  assert.equal(calls.length, 2);
  assert.equal(mints.length, 1);
});

test('a proof refusal or a 403 is not a reason to renew the token', async () => {
  const forbidden = () => new Response('{}', { status: 403, headers: { 'www-authenticate': 'DPoP error="insufficient_scope"' } });
  const { agent, mints } = standIn([refused(badProof), forbidden]);
  const mcpFetch = createMcpFetch(agent, { resource: RESOURCE });
  assert.equal((await mcpFetch('http://127.0.0.1:1/mcp')).status, 401);
  assert.equal((await mcpFetch('http://127.0.0.1:1/mcp')).status, 403);
  assert.deepEqual(mints, []);
});

test('when the broker refuses the renewal (mandate revoked) its error is thrown', async () => {
  const revoked = new OAuthResponseError(400, { error: 'invalid_request', error_description: 'the mandate was revoked', mandate_error: 'mandate_revoked' });
  const { agent } = standIn([refused(expired)], { mintError: revoked });
  await assert.rejects(createMcpFetch(agent, { resource: RESOURCE })('http://127.0.0.1:1/mcp'), (error: unknown) => error === revoked);
});

test('an agent without a grant for the resource renews as an autonomous agent', async () => {
  const { agent, mints } = standIn([refused(expired), ok], { grant: false });
  await createMcpFetch(agent, { resource: RESOURCE })('http://127.0.0.1:1/mcp');
  assert.deepEqual(mints, [`autonomous ${RESOURCE}`]);
});

test('the resource is required', () => {
  const { agent } = standIn([]);
  assert.throws(() => createMcpFetch(agent, { resource: '' }), ConfigurationError);
});
