import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { json, startTestApp, type TestApp } from './support/app-fixture.ts';
import { assertFamilyError } from './support/wire-asserts.ts';

const METADATA = '/.well-known/oauth-authorization-server';
const SPOOFED = { host: 'evil.example', 'x-forwarded-host': 'evil.example', 'x-forwarded-proto': 'https', forwarded: 'host=evil.example;proto=https' };
const PUBLIC_MEMBERS = new Set(['kty', 'crv', 'x', 'y', 'kid', 'alg', 'use']);

describe('metadata follows the configured issuer only (PROTOCOL §1)', () => {
  test('the default issuer follows the port', async () => {
    const t = await startTestApp({ flags: { port: '7431' } });
    try {
      const body = json(await t.inject({ method: 'GET', url: METADATA, headers: SPOOFED }));
      assert.equal(body.issuer, 'http://localhost:7431');
      assert.equal(body.jwks_uri, 'http://localhost:7431/jwks');
    } finally {
      await t.close();
    }
  });

  test('an explicit issuer is served exactly, whatever Host and X-Forwarded-* say', async () => {
    const t = await startTestApp({ flags: { issuer: 'https://broker.example.com/tenant-a' } });
    try {
      const response = await t.inject({ method: 'GET', url: METADATA, headers: SPOOFED });
      assert.equal(response.statusCode, 200);
      const base = 'https://broker.example.com/tenant-a';
      assert.deepEqual(json(response), {
        issuer: base,
        jwks_uri: `${base}/jwks`,
        token_endpoint: `${base}/token`,
        backchannel_authentication_endpoint: `${base}/bc-authorize`,
        introspection_endpoint: `${base}/introspect`,
        revocation_endpoint: `${base}/revoke`,
        challenge_endpoint: `${base}/challenge`,
        attestation_endpoint: `${base}/attest`,
        tpm_enrolment_endpoint: `${base}/attest/tpm/enrol`,
        tpm_activation_endpoint: `${base}/attest/tpm/activate`,
        response_types_supported: [],
        grant_types_supported: ['urn:openid:params:grant-type:ciba', 'urn:ietf:params:oauth:grant-type:token-exchange', 'client_credentials'],
        backchannel_token_delivery_modes_supported: ['poll'],
        backchannel_user_code_parameter_supported: false,
        token_endpoint_auth_methods_supported: ['private_key_jwt'],
        token_endpoint_auth_signing_alg_values_supported: ['ES256', 'EdDSA'],
        revocation_endpoint_auth_methods_supported: ['private_key_jwt'],
        revocation_endpoint_auth_signing_alg_values_supported: ['ES256', 'EdDSA'],
        introspection_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
        dpop_signing_alg_values_supported: ['ES256', 'EdDSA'],
        authorization_details_types_supported: ['agent-task'],
      });
      assert.doesNotMatch(response.body, /evil/);
    } finally {
      await t.close();
    }
  });
});

describe('served by one app', () => {
  let t: TestApp;
  before(async () => {
    t = await startTestApp();
  });
  after(() => t.close());

  test('/jwks serves public members only, before and after a rotation, cacheable for 60 s', async () => {
    for (let round = 0; round < 2; round++) {
      const response = await t.inject({ method: 'GET', url: '/jwks' });
      assert.equal(response.statusCode, 200);
      assert.equal(response.headers['cache-control'], 'public, max-age=60');
      const { keys } = json(response) as { keys: Record<string, unknown>[] };
      assert.equal(keys.length, round + 1);
      for (const key of keys) {
        assert.equal('d' in key, false);
        for (const member of Object.keys(key)) assert.ok(PUBLIC_MEMBERS.has(member), `unexpected member ${member}`);
      }
      await t.call('POST', '/admin/v1/keys/rotate');
    }
  });

  test('/admin/v1/keys never shows private material', async () => {
    const response = await t.call('GET', '/admin/v1/keys');
    assert.equal(response.statusCode, 200);
    for (const key of (json(response) as { keys: Record<string, unknown>[] }).keys) {
      assert.deepEqual(Object.keys(key).sort(), ['activates_at', 'alg', 'created_at', 'kid', 'retires_at', 'state']);
    }
  });

  test('key rotation is audited as key.rotated by the caller', async () => {
    const rotated = json(await t.call('POST', '/admin/v1/keys/rotate'));
    const [event] = await t.app.store.audit.tail(1);
    assert.equal(event!.type, 'key.rotated');
    assert.equal(event!.actor, t.admin.id);
    assert.equal(event!.data.kid, rotated.kid);
  });

  test('HEAD works where GET does', async () => {
    assert.equal((await t.inject({ method: 'HEAD', url: '/jwks' })).statusCode, 200);
  });

  test('an unknown path is a 404 in OAuth JSON', async () => {
    const body = assertFamilyError(await t.inject({ method: 'GET', url: '/.well-known/openid-configuration' }), 'oauth', 404);
    assert.equal(body.error, 'invalid_request');
  });

  test('a trailing slash is a different path (404)', async () => {
    assertFamilyError(await t.inject({ method: 'GET', url: '/jwks/' }), 'oauth', 404);
  });

  test('an unknown path under /admin is a 404 problem', async () => {
    assertFamilyError(await t.call('GET', '/admin/v1/nothing'), 'admin', 404, 'ERR_REQUEST_NOT_FOUND');
  });

  test('a wrong method is a 405 with Allow', async () => {
    const response = await t.inject({ method: 'DELETE', url: '/admin/v1/humans' });
    assertFamilyError(response, 'admin', 405, 'ERR_REQUEST_METHOD_NOT_ALLOWED');
    assert.equal(response.headers.allow, 'POST, GET, HEAD');
  });

  test('a malformed path escape answers 400 in the family format', async () => {
    assertFamilyError(await t.call('GET', '/admin/v1/humans/%E0%A4%A'), 'admin', 400, 'ERR_REQUEST_INVALID_PARAMETER');
  });

  test('an over-long path parameter is a 404', async () => {
    assertFamilyError(await t.call('GET', `/admin/v1/humans/${'x'.repeat(300)}`), 'admin', 404, 'ERR_REQUEST_NOT_FOUND');
  });

  test('request ids are ours: random req_…, echoed, never taken from the caller', async () => {
    const first = await t.inject({ method: 'GET', url: '/jwks', headers: { 'x-request-id': 'req_chosen-by-caller' } });
    const second = await t.inject({ method: 'GET', url: '/jwks' });
    assert.match(String(first.headers['x-request-id']), /^req_[A-Za-z0-9_-]{22}$/);
    assert.notEqual(first.headers['x-request-id'], second.headers['x-request-id']);
  });

  test('audit events of admin calls carry the request id', async () => {
    const response = await t.call('POST', '/admin/v1/humans', { name: 'Traced' });
    const [event] = await t.app.store.audit.tail(1);
    assert.equal(event!.requestId, response.headers['x-request-id']);
  });

  test("an unauthenticated caller's body is never parsed: 401 comes first", async () => {
    const response = await t.inject({ method: 'POST', url: '/admin/v1/humans', headers: { 'content-type': 'application/json' }, payload: '{"bad' });
    assertFamilyError(response, 'admin', 401, 'ERR_ADMIN_UNAUTHENTICATED');
  });
});
