import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ecPublicJwk, json, startTestApp, type TestApp } from './support/app-fixture.ts';
import { assertFamilyError } from './support/wire-asserts.ts';

/**
 * The admin API's rejections over HTTP, one test per code, each asserting the problem's `code` and
 * `detail` (the service tests cover the same rules without HTTP).
 */

let t: TestApp;
let disabled: string;
before(async () => {
  t = await startTestApp();
  disabled = String(json(await t.call('POST', '/admin/v1/humans', { name: 'gone' })).id);
  assert.equal((await t.call('POST', `/admin/v1/humans/${disabled}/disable`)).statusCode, 200);
});
after(() => t.close());

let names = 0;
const agentBody = (over: Record<string, unknown> = {}) => ({ name: `errors-agent-${++names}`, owners: [t.admin.id], policy: 'default', jwk: ecPublicJwk(), ...over });
const problem = (response: Awaited<ReturnType<TestApp['call']>>, status: number, code: string, detail: string | RegExp) => {
  const body = assertFamilyError(response, 'admin', status, code);
  if (typeof detail === 'string') assert.equal(body.detail, detail);
  else assert.match(String(body.detail), detail);
  return body;
};

describe('humans, agents and tokens', () => {
  test('an unknown human (ERR_HUMAN_NOT_FOUND)', async () => {
    problem(await t.call('GET', '/admin/v1/humans/usr_QQQQQQQQQQQQQQQQQQQQQQ'), 404, 'ERR_HUMAN_NOT_FOUND', 'no human usr_QQQQQQQQQQQQQQQQQQQQQQ');
  });
  test('a token for a disabled human (ERR_HUMAN_DISABLED)', async () => {
    problem(await t.call('POST', '/admin/v1/tokens', { human_id: disabled, label: 'x', rights: ['audit:read'] }), 409, 'ERR_HUMAN_DISABLED', `${disabled} is disabled`);
  });
  test('an unknown agent (ERR_AGENT_NOT_FOUND)', async () => {
    problem(await t.call('GET', '/admin/v1/agents/agt_QQQQQQQQQQQQQQQQQQQQQQ'), 404, 'ERR_AGENT_NOT_FOUND', 'no agent agt_QQQQQQQQQQQQQQQQQQQQQQ');
  });
  test('an agent name already registered (ERR_AGENT_NAME_TAKEN)', async () => {
    assert.equal((await t.call('POST', '/admin/v1/agents', agentBody({ name: 'twice' }))).statusCode, 201);
    problem(await t.call('POST', '/admin/v1/agents', agentBody({ name: 'twice' })), 409, 'ERR_AGENT_NAME_TAKEN', /twice/);
  });
  test('suspending a suspended agent (ERR_AGENT_STATE)', async () => {
    const id = String(json(await t.call('POST', '/admin/v1/agents', agentBody())).id);
    assert.equal((await t.call('POST', `/admin/v1/agents/${id}/suspend`)).statusCode, 200);
    problem(await t.call('POST', `/admin/v1/agents/${id}/suspend`), 409, 'ERR_AGENT_STATE', `agent ${id} is suspended and cannot become suspended`);
  });
  test('an agent without owners (ERR_AGENT_OWNER_REQUIRED)', async () => {
    problem(await t.call('POST', '/admin/v1/agents', agentBody({ owners: [] })), 400, 'ERR_AGENT_OWNER_REQUIRED', 'owners must name at least one human');
  });
  test('an attestation policy not in the config (ERR_AGENT_POLICY_UNKNOWN)', async () => {
    problem(await t.call('POST', '/admin/v1/agents', agentBody({ policy: 'nope' })), 400, 'ERR_AGENT_POLICY_UNKNOWN', 'no attestation policy named "nope" in the config');
  });
  test('a private key as the agent key (ERR_AGENT_JWK_INVALID)', async () => {
    problem(await t.call('POST', '/admin/v1/agents', agentBody({ jwk: { ...ecPublicJwk(), d: 'AAAA' } })), 400, 'ERR_AGENT_JWK_INVALID', 'jwk must be a public key: member "d" is not allowed');
  });
  test('an owner who is not a known human (ERR_AGENT_HUMAN_UNKNOWN)', async () => {
    problem(await t.call('POST', '/admin/v1/agents', agentBody({ owners: ['usr_QQQQQQQQQQQQQQQQQQQQQQ'] })), 400, 'ERR_AGENT_HUMAN_UNKNOWN', 'usr_QQQQQQQQQQQQQQQQQQQQQQ is not a known human');
  });
  test('a disabled owner (ERR_AGENT_HUMAN_DISABLED)', async () => {
    problem(await t.call('POST', '/admin/v1/agents', agentBody({ owners: [disabled] })), 400, 'ERR_AGENT_HUMAN_DISABLED', `${disabled} is disabled`);
  });
  test('revoking an unknown admin token (ERR_TOKEN_NOT_FOUND)', async () => {
    problem(await t.call('POST', `/admin/v1/tokens/mat_${'Q'.repeat(22)}/revoke`), 404, 'ERR_TOKEN_NOT_FOUND', `no admin token mat_${'Q'.repeat(22)}`);
  });
  test('granting a right the caller lacks (ERR_TOKEN_RIGHTS_EXCEEDED)', async () => {
    const manager = json(await t.call('POST', '/admin/v1/tokens', { label: 'manager', rights: ['tokens:manage'] })).secret as string;
    problem(await t.call('POST', '/admin/v1/tokens', { label: 'x', rights: ['audit:read'] }, manager), 403, 'ERR_TOKEN_RIGHTS_EXCEEDED', 'the caller does not hold: audit:read');
  });
});

describe('request parsing', () => {
  const raw = (payload: string, contentType = 'application/json') =>
    t.inject({ method: 'POST', url: '/admin/v1/humans', headers: { authorization: `Bearer ${t.adminSecret}`, 'content-type': contentType }, payload });

  test('a body over server.bodyLimitBytes (ERR_REQUEST_BODY_TOO_LARGE)', async () => {
    problem(await raw(JSON.stringify({ name: 'x'.repeat(70_000) })), 413, 'ERR_REQUEST_BODY_TOO_LARGE', 'the request body is larger than the server accepts');
  });
  test('a form body where JSON is expected (ERR_REQUEST_CONTENT_TYPE)', async () => {
    problem(await raw('name=x', 'application/x-www-form-urlencoded'), 415, 'ERR_REQUEST_CONTENT_TYPE', 'this endpoint takes application/json');
  });
  test('invalid JSON (ERR_REQUEST_MALFORMED_BODY)', async () => {
    problem(await raw('{"name":'), 400, 'ERR_REQUEST_MALFORMED_BODY', 'the body is not valid JSON');
  });
  test('a member twice (ERR_REQUEST_DUPLICATE_PARAMETER)', async () => {
    problem(await raw('{"name":"a","name":"b"}'), 400, 'ERR_REQUEST_DUPLICATE_PARAMETER', 'member name appears more than once in one object');
  });
  test('a required member missing (ERR_REQUEST_MISSING_PARAMETER)', async () => {
    problem(await raw('{"email":"a@example.com"}'), 400, 'ERR_REQUEST_MISSING_PARAMETER', 'name is required');
  });
  test('an unknown member (ERR_REQUEST_INVALID_PARAMETER)', async () => {
    problem(await raw('{"name":"a","admin":true}'), 400, 'ERR_REQUEST_INVALID_PARAMETER', 'unknown parameter admin');
  });
  test('an unknown admin path (ERR_REQUEST_NOT_FOUND)', async () => {
    problem(await t.call('GET', '/admin/v1/nothing'), 404, 'ERR_REQUEST_NOT_FOUND', 'no such endpoint');
  });
  test('a method the path does not serve (ERR_REQUEST_METHOD_NOT_ALLOWED)', async () => {
    const response = await t.inject({ method: 'DELETE', url: '/admin/v1/humans', headers: { authorization: `Bearer ${t.adminSecret}` } });
    problem(response, 405, 'ERR_REQUEST_METHOD_NOT_ALLOWED', 'DELETE is not allowed here');
    assert.equal(response.headers.allow, 'POST, GET, HEAD');
  });
});
