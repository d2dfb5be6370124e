import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { loadConfig, ConfigError } from '../src/config/load.ts';
import type { SqliteStore } from '../src/store/sqlite/index.ts';
import { json, startTestApp, type TestApp } from './support/app-fixture.ts';
import { API, startLoopFixture, type LoopFixture } from './support/loop-fixture.ts';
import { parseExposition } from './support/prometheus-text.ts';

/**
 * Operability (docs/operations.md): liveness, readiness and its failing checks, the metrics
 * scrape after a real mint, request ids in logs and audit, secrets kept out of the logs. Graceful
 * shutdown of the real `mandate serve` is in operability-shutdown.test.ts.
 */

const PROBLEM = 'application/problem+json; charset=utf-8';
const REQUEST_ID = 'req_OpsOpsOpsOpsOpsOpsOpsO';

function sqlite(t: TestApp): SqliteStore['raw']['raw'] {
  return (t.app.store as SqliteStore).raw.raw;
}

describe('health and readiness', () => {
  let t: TestApp;
  before(async () => {
    t = await startTestApp();
  });
  after(() => t.close());

  test('GET /healthz answers 200 while the process is up', async () => {
    const response = await t.inject({ method: 'GET', url: '/healthz' });
    assert.equal(response.statusCode, 200);
    assert.deepEqual(json(response), { status: 'ok' });
    assert.equal(response.headers['cache-control'], 'no-store');
  });

  test('GET /readyz answers 200 with every check ok', async () => {
    const response = await t.inject({ method: 'GET', url: '/readyz' });
    assert.equal(response.statusCode, 200);
    assert.deepEqual(json(response), { status: 'ready', checks: { shutdown: 'ok', store: 'ok', keys: 'ok', migrations: 'ok' } });
  });

  test('a migration this version knows but the store lacks: 503 naming it (ERR_OPS_NOT_READY)', async () => {
    const db = sqlite(t);
    const last = db.prepare('SELECT name, timestamp FROM kysely_migration ORDER BY name DESC LIMIT 1').get() as { name: string; timestamp: string };
    db.prepare('DELETE FROM kysely_migration WHERE name = ?').run(last.name);
    try {
      const response = await t.inject({ method: 'GET', url: '/readyz' });
      assert.equal(response.statusCode, 503);
      assert.equal(response.headers['content-type'], PROBLEM);
      const body = json(response);
      assert.equal(body.code, 'ERR_OPS_NOT_READY');
      assert.deepEqual(body.checks, { shutdown: 'ok', store: 'ok', keys: 'ok', migrations: 'fail' });
      assert.equal(body.detail, `migrations: not applied: ${last.name}`);
    } finally {
      db.prepare('INSERT INTO kysely_migration (name, timestamp) VALUES (?, ?)').run(last.name, last.timestamp);
    }
  });

  test('a migration only a newer version knows is tolerated (expand-only schema changes)', async () => {
    const db = sqlite(t);
    db.prepare('INSERT INTO kysely_migration (name, timestamp) VALUES (?, ?)').run('9999-from-the-future', new Date().toISOString());
    try {
      assert.equal((await t.inject({ method: 'GET', url: '/readyz' })).statusCode, 200);
    } finally {
      db.prepare('DELETE FROM kysely_migration WHERE name = ?').run('9999-from-the-future');
    }
  });

  test('while draining, /readyz answers 503 so a load balancer stops routing here (ERR_OPS_NOT_READY)', async () => {
    const draining = await startTestApp();
    try {
      draining.app.serving.markDraining();
      const response = await draining.inject({ method: 'GET', url: '/readyz' });
      assert.equal(response.statusCode, 503);
      assert.equal(json(response).code, 'ERR_OPS_NOT_READY');
      assert.deepEqual(json(response).checks, { shutdown: 'fail', store: 'ok', keys: 'ok', migrations: 'ok' });
      assert.equal((await draining.inject({ method: 'GET', url: '/healthz' })).statusCode, 200, 'still alive');
    } finally {
      await draining.close();
    }
  });

  test('no active signing key: 503 naming the keys check (ERR_OPS_NOT_READY)', async () => {
    let offset = 0;
    const keyless = await startTestApp({ overrides: { clock: { now: () => Date.now() + offset } } });
    try {
      offset = -86_400_000; // before the only key was created: it is not active yet
      const response = await keyless.inject({ method: 'GET', url: '/readyz' });
      assert.equal(response.statusCode, 503);
      assert.equal(json(response).code, 'ERR_OPS_NOT_READY');
      assert.deepEqual(json(response).checks, { shutdown: 'ok', store: 'ok', keys: 'fail', migrations: 'ok' });
    } finally {
      await keyless.close();
    }
  });

  test('the store closed: 503 naming the store check, migrations not checked (ERR_OPS_NOT_READY)', async () => {
    await t.app.store.close();
    const response = await t.inject({ method: 'GET', url: '/readyz' });
    assert.equal(response.statusCode, 503);
    assert.equal(response.headers['content-type'], PROBLEM);
    const body = json(response);
    assert.equal(body.code, 'ERR_OPS_NOT_READY');
    assert.equal(body.status, 503);
    assert.deepEqual(body.checks, { shutdown: 'ok', store: 'fail', keys: 'ok', migrations: 'not_checked' });
    assert.equal(body.detail, 'store: the store does not answer');
    assert.equal((await t.inject({ method: 'GET', url: '/healthz' })).statusCode, 200, 'liveness does not depend on the store');
  });
});

describe('metrics endpoint settings', () => {
  test('metrics.bearerToken: no or a wrong token is 401 with a Bearer challenge (ERR_OPS_METRICS_UNAUTHENTICATED)', async () => {
    const token = 'a-long-metrics-scrape-token';
    const t = await startTestApp({ config: { metrics: { bearerToken: token } } });
    try {
      for (const authorization of [undefined, 'Bearer wrong-token-of-some-length', `Basic ${token}`, `Bearer ${token}x`]) {
        const response = await t.inject({ method: 'GET', url: '/metrics', headers: authorization ? { authorization } : {} });
        assert.equal(response.statusCode, 401, String(authorization));
        assert.equal(json(response).code, 'ERR_OPS_METRICS_UNAUTHENTICATED');
        assert.equal(response.headers['www-authenticate'], 'Bearer realm="mandate-metrics"');
        assert.doesNotMatch(response.body, new RegExp(token));
      }
      const ok = await t.inject({ method: 'GET', url: '/metrics', headers: { authorization: `Bearer ${token}` } });
      assert.equal(ok.statusCode, 200);
      assert.match(ok.body, /^# HELP /m);
    } finally {
      await t.close();
    }
  });

  test('the bearer token comes from MANDATE_METRICS_BEARER_TOKEN; a short one fails at start with its dotted path', () => {
    assert.equal(loadConfig({ env: { MANDATE_METRICS_BEARER_TOKEN: 'sixteen-chars-ok' } }).metrics.bearerToken, 'sixteen-chars-ok');
    assert.throws(() => loadConfig({ env: { MANDATE_METRICS_BEARER_TOKEN: 'short' } }), (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.deepEqual(error.issues, [{ path: 'metrics.bearerToken', message: 'must be at least 16 characters', source: 'MANDATE_METRICS_BEARER_TOKEN' }]);
      assert.doesNotMatch(error.message, /short/);
      return true;
    });
  });

  test('metrics.enabled false: no /metrics route', async () => {
    const t = await startTestApp({ config: { metrics: { enabled: false } } });
    try {
      assert.equal((await t.inject({ method: 'GET', url: '/metrics' })).statusCode, 404);
    } finally {
      await t.close();
    }
  });
});

describe('the core loop, observed', () => {
  const lines: string[] = [];
  let fx: LoopFixture;
  before(async () => {
    fx = await startLoopFixture({ logDestination: { write: (line: string) => void lines.push(line) } });
  });
  after(() => fx?.close());

  let mandateId = '';
  let secrets: string[] = [];

  test('a real attest → ask → approve → mint → revoke shows in the counters, histograms and cache gauges', async () => {
    const client = fx.agent.client();
    const attestation = await client.attest();
    const { authReqId } = await client.ask({
      loginHint: fx.alice.id, bindingMessage: 'Count this', attestation,
      task: { purpose: 'Count this', audience: API, actions: ['read'], notAfter: new Date(fx.clock.now() + 3_600_000) },
    });
    mandateId = await fx.pendingMandateOf(fx.agent.agent.id);
    assert.equal((await fx.adminApi('POST', `/admin/v1/mandates/${mandateId}/approve`, fx.secrets.alice)).status, 200);
    const { grant, accessToken } = await client.waitForApproval(authReqId, { interval: 0.05, timeoutMs: 10_000 });
    const minted = await client.mint({ resource: API });
    // RFC 7009 by the agent itself: a raw request, so the test knows the assertion it must not find in the logs.
    const assertion = await fx.agent.assertion();
    const revokeToken = await fx.post('/revoke', { client_id: fx.agent.agent.id, client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: assertion, token: minted.accessToken });
    assert.equal(revokeToken.status, 200);
    const revoked = await fetch(`${fx.issuer}/admin/v1/mandates/${mandateId}/revoke`, {
      method: 'POST', body: JSON.stringify({ reason: 'done' }),
      headers: { authorization: `Bearer ${fx.secrets.alice}`, 'content-type': 'application/json', 'x-request-id': REQUEST_ID },
    });
    assert.equal(revoked.status, 200);
    assert.equal(revoked.headers.get('x-request-id'), REQUEST_ID, 'a well-formed incoming id is kept and echoed');
    secrets = [grant, accessToken, minted.accessToken, assertion, attestation.attestation, fx.secrets.alice, fx.secrets.admin];

    const scrape = await fetch(`${fx.issuer}/metrics`);
    assert.equal(scrape.status, 200);
    assert.equal(scrape.headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8');
    const { types, samples } = parseExposition(await scrape.text());
    assert.equal(types.get('mandate_mint_total'), 'counter');
    assert.equal(types.get('mandate_mint_seconds'), 'histogram');
    assert.equal(samples.get('mandate_mint_total{grant="ciba",outcome="issued"}'), 1);
    assert.equal(samples.get('mandate_mint_total{grant="token_exchange",outcome="issued"}'), 1);
    assert.equal(samples.get('mandate_mint_seconds_count{grant="ciba"}')! >= 1, true);
    assert.ok(samples.get('mandate_attest_total{outcome="warning"}')! >= 1, 'the SDK attests before asking and before minting');
    assert.equal(samples.get('mandate_approval_total{method="admin_token",outcome="approved"}'), 1);
    assert.equal(samples.get('mandate_revocation_total{kind="token.revoked"}'), 1);
    assert.equal(samples.get('mandate_revocation_total{kind="mandate.revoked"}'), 1);
    assert.equal(samples.get('mandate_revocation_propagation_seconds_count{kind="mandate.revoked"}'), 1);
    assert.ok(samples.get('mandate_audit_commit_seconds_count')! >= 5, 'every audited step committed');
    assert.equal(samples.get('mandate_audit_commit_seconds_bucket{le="+Inf"}'), samples.get('mandate_audit_commit_seconds_count'));
    assert.ok(samples.get('mandate_cache_entries{cache="dpop_keys"}')! >= 1);
    assert.ok(samples.get('mandate_cache_entries{cache="client_keys"}')! >= 1);
    assert.ok(samples.get('mandate_cache_entries{cache="attestation_results"}')! >= 1);
    assert.equal(samples.get('mandate_http_requests_total{method="POST",route="/admin/v1/mandates/:id/revoke",status="200"}'), 1);
    assert.ok(samples.has('process_cpu_user_seconds_total'), 'process default metrics');
  });

  test('a refused mint is counted by its RFC 6749 outcome', async () => {
    const client = fx.agent.client();
    await assert.rejects(client.waitForApproval('unknown-auth-req-id', { interval: 0.05, timeoutMs: 2000 }));
    const { samples } = parseExposition(await (await fetch(`${fx.issuer}/metrics`)).text());
    assert.equal(samples.get('mandate_mint_total{grant="ciba",outcome="invalid_grant"}'), 1);
  });

  test('every log line of a request carries its request id, which is also the audit event\'s; no secret is logged', async () => {
    const records = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    const ofRequest = records.filter((r) => r.reqId === REQUEST_ID);
    assert.deepEqual(ofRequest.map((r) => r.msg), ['incoming request', 'request completed']);
    assert.equal((ofRequest[0]!.req as { url: string }).url, `/admin/v1/mandates/${mandateId}/revoke`);
    const events = await fx.auditEvents(50);
    assert.ok(events.some((e) => e.type === 'mandate.revoked' && e.request_id === REQUEST_ID), 'the same id in the audit event');
    for (const record of records.filter((r) => r.msg === 'incoming request' || r.msg === 'request completed'))
      assert.match(String(record.reqId), /^req_[A-Za-z0-9_-]{22}$/);
    const tokenRequests = records.filter((r) => r.msg === 'incoming request' && (r.req as { url: string }).url === '/token');
    assert.ok(tokenRequests.length >= 2, 'the mints were logged');
    const text = lines.join('');
    for (const secret of secrets) assert.equal(text.includes(secret), false, `a secret leaked into the log: ${secret.slice(0, 12)}…`);
    assert.doesNotMatch(text, /eyJ[\w-]+\.eyJ[\w-]+\./, 'no JWS (assertion, DPoP proof, token) anywhere');
    assert.doesNotMatch(text, /mat_|mgr_/, 'no admin token or mandate grant');
  });
});
