import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { generateKeyPair, SignJWT } from 'jose';
import { evidenceAudience, type AgentClient } from '@mandate/sdk';
import { CLIENT_ASSERTION_TYPE, CLIENT_ATTESTATION_POP_TYP, GRANT_TYPE } from '@mandate/sdk/protocol';
import { ConfigError, loadConfig, type ConfigIssue } from '../src/config/load.ts';
import { startTestApp } from './support/app-fixture.ts';
import {
  assertOAuthError, AUTO_API, clientAuth, CODE_DIGEST, generateDpopKey, startLoopFixture,
  type DpopKeyPair, type LoopAgent, type LoopFixture, type WireResponse,
} from './support/loop-fixture.ts';

/**
 * docs/limits.md over real sockets: the per-client limiter (every request of an authenticated
 * client) and the per-address limiter (failures only, checked before any work) on /token, /attest
 * and /bc-authorize. The broker trusts 127.0.0.1 as a proxy here, so each test speaks from its own
 * client address (X-Forwarded-For) and spends no other test's budget. Budgets are tiny and refill
 * in 1000 s, so nothing refills during a test: each 429 is deterministic.
 */

const RETRY_AFTER = '1000'; // rate 0.001/s: the next request fits in 1000 s
let fx: LoopFixture;
before(async () => {
  fx = await startLoopFixture({
    config: {
      server: { trustedProxies: ['127.0.0.1'] },
      limits: { perClient: { rate: 0.001, burst: 3 }, perIpFailures: { rate: 0.001, burst: 1 } },
    },
  });
});
after(() => fx.close());

let addresses = 0;
/** A client address no other test uses. */
const newAddress = () => `198.51.100.${++addresses}`;
const from = (ip: string, headers: Record<string, string> = {}) => ({ 'x-forwarded-for': ip, ...headers });

interface Actor {
  agent: LoopAgent;
  key: DpopKeyPair;
  sdk: AgentClient;
}

async function newActor(existing?: LoopAgent): Promise<Actor> {
  const agent = existing ?? (await fx.addAgent());
  const key = await generateDpopKey();
  return { agent, key, sdk: agent.client({ dpopKey: key.pair }) };
}

/** Authenticates and proves its DPoP key, then fails on an unknown auth_req_id: not an address failure. */
async function poll(a: Actor, ip: string): Promise<WireResponse> {
  const form = { ...(await clientAuth(a.agent)), grant_type: GRANT_TYPE.ciba, auth_req_id: 'no-such-request' };
  return fx.post('/token', form, from(ip, { dpop: await fx.proof(a.key, '/token') }));
}

/** Client authentication that fails: signed by a key the broker does not know for this client. */
async function badClientAuth(agentId: string, ip: string, path = '/token'): Promise<WireResponse> {
  const { privateKey } = await generateKeyPair('ES256');
  const now = Math.floor(fx.clock.now() / 1000);
  const assertion = await new SignJWT({ iss: agentId, sub: agentId, aud: fx.issuer, iat: now, exp: now + 30, jti: `${ip}-${now}-${Math.random()}` })
    .setProtectedHeader({ alg: 'ES256' }).sign(privateKey);
  return fx.post(path, { grant_type: GRANT_TYPE.ciba, auth_req_id: 'x', client_id: agentId, client_assertion_type: CLIENT_ASSERTION_TYPE, client_assertion: assertion }, from(ip));
}

function assertLimited(response: WireResponse, by: 'client' | 'address'): void {
  const message = by === 'client' ? /^too many requests from this client: retry after 1000 s$/ : /^too many failed requests from this address: retry after 1000 s$/;
  assertOAuthError(response, 'ERR_RATE_LIMITED', message, 'rate_limited');
  assert.equal(response.status, 429);
  assert.equal(response.body.error, 'slow_down');
  assert.equal(response.headers.get('retry-after'), RETRY_AFTER);
}

describe('per client: every request of an authenticated client', () => {
  test('a client over its budget gets 429 slow_down with Retry-After (ERR_RATE_LIMITED)', async () => {
    const a = await newActor();
    const ip = newAddress();
    for (let i = 0; i < 3; i++) assertOAuthError(await poll(a, ip), 'ERR_CIBA_INVALID_GRANT', /auth_req_id/);
    const limited = await poll(a, ip);
    assertOAuthError(limited, 'ERR_RATE_LIMITED', 'too many requests from this client: retry after 1000 s', 'rate_limited');
    assertLimited(limited, 'client');
    // The address is not blamed: another client from the same address goes on.
    assertOAuthError(await poll(await newActor(), ip), 'ERR_CIBA_INVALID_GRANT', /auth_req_id/);
  });

  test('one budget across /token, /attest and /bc-authorize', async () => {
    const a = await newActor();
    const ip = newAddress();
    const attest = await fx.postJson('/attest', { ...(await clientAuth(a.agent)), nonce: 'not-a-challenge', evidence: [{ attestor: 'code-digest', evidence: { digest: CODE_DIGEST } }] }, from(ip, { dpop: await fx.proof(a.key, '/attest') }));
    assertOAuthError(attest, 'ERR_CHALLENGE_INVALID', /.+/);
    const ask = await fx.post('/bc-authorize', { ...(await clientAuth(a.agent)), login_hint: fx.alice.id }, from(ip, { dpop: await fx.proof(a.key, '/bc-authorize') }));
    assert.notEqual(ask.status, 429, JSON.stringify(ask.body));
    assert.notEqual(ask.status, 200);
    assertOAuthError(await poll(a, ip), 'ERR_CIBA_INVALID_GRANT', /auth_req_id/);
    assertLimited(await fx.post('/bc-authorize', { ...(await clientAuth(a.agent)), login_hint: fx.alice.id }, from(ip)), 'client');
    const attestAgain = await fx.postJson('/attest', { ...(await clientAuth(a.agent)), nonce: 'x', evidence: [{ attestor: 'code-digest', evidence: {} }] }, from(ip));
    assertLimited(attestAgain, 'client');
  });

  test('requests naming a client without its key spend none of its budget', async () => {
    const victim = await newActor();
    // Ten forged requests for the victim's client_id, each from a fresh address (so no address limit applies).
    for (let i = 0; i < 10; i++) assertOAuthError(await badClientAuth(victim.agent.agent.id, newAddress()), 'ERR_CLIENT_ASSERTION_SIGNATURE', /.+/);
    const ip = newAddress();
    for (let i = 0; i < 3; i++) assertOAuthError(await poll(victim, ip), 'ERR_CIBA_INVALID_GRANT', /auth_req_id/);
    assertLimited(await poll(victim, ip), 'client');
  });
});

describe('per address: failures only, refused before any work', () => {
  test('bad client authentication spends the address budget; then even a valid request gets 429 (ERR_RATE_LIMITED)', async () => {
    const ip = newAddress();
    const a = await newActor();
    assertOAuthError(await badClientAuth(a.agent.agent.id, ip), 'ERR_CLIENT_ASSERTION_SIGNATURE', /.+/);
    assertLimited(await poll(a, ip), 'address');
    // The refused valid request cost the client nothing: from another address it still has 3.
    const other = newAddress();
    for (let i = 0; i < 3; i++) assertOAuthError(await poll(a, other), 'ERR_CIBA_INVALID_GRANT', /auth_req_id/);
  });

  test('a limited address is refused before its body is read, on all three endpoints', async () => {
    const ip = newAddress();
    assertOAuthError(await badClientAuth('agt_AAAAAAAAAAAAAAAAAAAAAA', ip), 'ERR_CLIENT_UNKNOWN', /.+/);
    // A body the parsers would refuse (415, 400) is never looked at.
    const wrongType = await fetch(`${fx.issuer}/token`, { method: 'POST', headers: from(ip, { 'content-type': 'text/plain' }), body: 'x' });
    assert.equal(wrongType.status, 429);
    assert.equal(wrongType.headers.get('retry-after'), RETRY_AFTER);
    assertLimited(await fx.postJson('/attest', '{not json', from(ip)), 'address');
    assertLimited(await fx.post('/bc-authorize', {}, from(ip)), 'address');
    // Other endpoints are not limited: discovery still answers.
    assert.equal((await fetch(`${fx.issuer}/.well-known/oauth-authorization-server`, { headers: from(ip) })).status, 200);
  });

  test('a bad DPoP proof is an address failure', async () => {
    const ip = newAddress();
    const a = await newActor();
    const form = { ...(await clientAuth(a.agent)), grant_type: GRANT_TYPE.ciba, auth_req_id: 'x' };
    const other = await generateDpopKey();
    // Signed by another key than the one in its header.
    const forged = `${(await fx.proof(a.key, '/token')).split('.').slice(0, 2).join('.')}.${(await fx.proof(other, '/token')).split('.')[2]}`;
    assertOAuthError(await fx.post('/token', form, from(ip, { dpop: forged })), 'ERR_DPOP_SIGNATURE', /.+/);
    assertLimited(await poll(a, ip), 'address');
  });

  test('a bad client-attestation PoP is an address failure', async () => {
    const ip = newAddress();
    const a = await newActor(fx.agent);
    const { attestation } = await a.sdk.attest();
    const stranger = await generateDpopKey();
    const now = Math.floor(fx.clock.now() / 1000);
    const pop = await new SignJWT({}).setProtectedHeader({ alg: 'ES256', typ: CLIENT_ATTESTATION_POP_TYP })
      .setIssuer(a.agent.agent.id).setAudience(fx.issuer).setIssuedAt(now).setJti(`pop-${now}`).sign(stranger.pair.privateKey);
    const headers = from(ip, { dpop: await fx.proof(a.key, '/token'), 'oauth-client-attestation': attestation, 'oauth-client-attestation-pop': pop });
    const response = await fx.post('/token', { ...(await clientAuth(a.agent)), grant_type: GRANT_TYPE.clientCredentials, resource: AUTO_API }, headers);
    assertOAuthError(response, 'ERR_MINT_ACTOR_TOKEN', /attestation PoP/, 'attestation_pop_invalid');
    assertLimited(await fx.post('/token', { grant_type: GRANT_TYPE.clientCredentials }, from(ip)), 'address');
  });

  test('evidence with a bad signature at /attest is an address failure', async () => {
    const ip = newAddress();
    const a = await newActor();
    const { nonce } = await a.sdk.challenge();
    const audience = await evidenceAudience(nonce, a.key.jkt);
    const evidence = [
      { attestor: 'oidc-token', evidence: await fx.oidc.sign({ aud: audience }, { foreignKey: true }) },
      { attestor: 'code-digest', evidence: { digest: CODE_DIGEST } },
    ];
    const response = await fx.postJson('/attest', { ...(await clientAuth(a.agent)), nonce, evidence }, from(ip, { dpop: await fx.proof(a.key, '/attest') }));
    assertOAuthError(response, 'ERR_ATTESTATION_REJECTED', 'the evidence does not satisfy the attestation policy');
    assertLimited(await fx.postJson('/attest', {}, from(ip)), 'address');
  });

  test('failures that are not failed proofs (an unknown auth_req_id, a missing parameter) are not counted', async () => {
    const ip = newAddress();
    const a = await newActor();
    assertOAuthError(await poll(a, ip), 'ERR_CIBA_INVALID_GRANT', /auth_req_id/);
    assertOAuthError(await fx.post('/token', { grant_type: 'password' }, from(ip)), 'ERR_GRANT_TYPE_UNSUPPORTED', /.+/);
    assertOAuthError(await fx.post('/bc-authorize', {}, from(ip)), 'ERR_REQUEST_MISSING_PARAMETER', /.+/);
    assertOAuthError(await poll(a, ip), 'ERR_CIBA_INVALID_GRANT', /auth_req_id/);
  });
});

describe('memory and switches', () => {
  test('a flood of distinct failing addresses keeps at most limits.maxKeys of them', async () => {
    const t = await startTestApp({ config: { server: { trustedProxies: ['127.0.0.1'] }, limits: { maxKeys: 100, perIpFailures: { rate: 0.001, burst: 1 } } } });
    try {
      await t.app.http.listen({ host: '127.0.0.1', port: 0 });
      const { port } = t.app.http.server.address() as { port: number };
      const body = new URLSearchParams({ grant_type: GRANT_TYPE.ciba, client_id: 'agt_AAAAAAAAAAAAAAAAAAAAAA', client_assertion_type: CLIENT_ASSERTION_TYPE, client_assertion: 'a.b.c' }).toString();
      const statuses = new Map<number, number>();
      for (let i = 0; i < 250; i++) {
        const response = await fetch(`http://127.0.0.1:${port}/token`, { method: 'POST', headers: from(`10.${i >> 8}.${i & 255}.1`, { 'content-type': 'application/x-www-form-urlencoded' }), body });
        await response.arrayBuffer();
        statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
      }
      assert.deepEqual([...statuses], [[401, 250]]);
      // Beyond maxKeys the least recently seen are dropped in a batch, down to 90 %.
      const held = t.app.http.rateLimits!.perAddress.size();
      assert.ok(held <= 100 && held >= 90, `${held} addresses held`);
      // Operators see the same figure, and the refusals, in /metrics.
      const scrape = await t.app.metrics.render();
      assert.match(scrape, new RegExp(`mandate_cache_entries\\{cache="rate_limit_addresses"\\} ${held}\\b`));
      assert.match(scrape, /mandate_cache_entries\{cache="rate_limit_clients"\} 0\b/);
    } finally {
      await t.close();
    }
  });

  test('limits.enabled=false turns both limiters off', async () => {
    const t = await startTestApp({ config: { limits: { enabled: false, perIpFailures: { rate: 0.001, burst: 1 } } } });
    try {
      assert.equal(t.app.http.rateLimits, null);
      for (let i = 0; i < 20; i++) {
        const response = await t.inject({ method: 'POST', url: '/token', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: `grant_type=${encodeURIComponent(GRANT_TYPE.ciba)}&client_id=agt_AAAAAAAAAAAAAAAAAAAAAA` });
        assert.equal(response.statusCode, 401);
      }
    } finally {
      await t.close();
    }
  });
});

function configIssues(config: Record<string, unknown>): ConfigIssue[] {
  const dir = mkdtempSync(join(tmpdir(), 'mandate-limits-config-'));
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
  try {
    loadConfig({ flags: { config: join(dir, 'config.json') }, env: {} });
  } catch (error) {
    assert.ok(error instanceof ConfigError);
    return error.issues;
  }
  return assert.fail('expected a config error');
}

describe('limits config', () => {
  test('the documented defaults: on, 10/s burst 20 per client, 1/s burst 30 failures per address', () => {
    const { limits, server } = loadConfig({ flags: {}, env: {} });
    assert.deepEqual(limits, { enabled: true, perClient: { rate: 10, burst: 20 }, perIpFailures: { rate: 1, burst: 30 }, maxKeys: 100_000 });
    assert.deepEqual(
      { maxHeaderBytes: server.maxHeaderBytes, headersTimeout: server.headersTimeout, requestTimeout: server.requestTimeout, connectionTimeout: server.connectionTimeout, keepAliveTimeout: server.keepAliveTimeout },
      { maxHeaderBytes: 16_384, headersTimeout: 10_000, requestTimeout: 30_000, connectionTimeout: 60_000, keepAliveTimeout: 5_000 },
    );
  });

  test('bad limits fail at start with their dotted paths', () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ limits: { perClient: { rate: 0 } } }, 'limits.perClient.rate'],
      [{ limits: { perIpFailures: { rate: -1 } } }, 'limits.perIpFailures.rate'],
      [{ limits: { perClient: { burst: 0 } } }, 'limits.perClient.burst'],
      [{ limits: { perIpFailures: { burst: 2.5 } } }, 'limits.perIpFailures.burst'],
      [{ limits: { maxKeys: 10 } }, 'limits.maxKeys'],
      [{ limits: { enabled: 'yes' } }, 'limits.enabled'],
      [{ limits: { perClient: { rate: 1, window: '1m' } } }, 'limits.perClient.window'],
    ];
    for (const [config, path] of cases) assert.deepEqual(configIssues(config).map((i) => i.path), [path], JSON.stringify(config));
  });

  test('bad size and time limits fail at start with their dotted paths', () => {
    const cases: Array<[Record<string, unknown>, string, RegExp]> = [
      [{ server: { headersTimeout: '40s' } }, 'server.headersTimeout', /at most server.requestTimeout/],
      [{ server: { requestTimeout: '0s', headersTimeout: '0s' } }, 'server.headersTimeout', /longer than 0s/],
      [{ server: { keepAliveTimeout: '0s' } }, 'server.keepAliveTimeout', /longer than 0s/],
      [{ server: { connectionTimeout: '20s' } }, 'server.connectionTimeout', /longer than notifications.heartbeat/],
      [{ server: { maxHeaderBytes: 1000 } }, 'server.maxHeaderBytes', /.+/],
    ];
    for (const [config, path, message] of cases) {
      const issues = configIssues(config);
      const issue = issues.find((i) => i.path === path);
      assert.ok(issue, `${path} in ${JSON.stringify(issues)}`);
      assert.match(issue.message, message);
    }
    assert.deepEqual(configIssues({ server: { connectionTimeout: '0s', requestTimeout: '0s' } }).map((i) => i.path), ['server.requestTimeout', 'server.headersTimeout']);
  });
});
