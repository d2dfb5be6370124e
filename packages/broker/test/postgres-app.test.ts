import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { createApp, STORE_FILE, type App } from '../src/app.ts';
import { verificationKeysFromStore } from '../src/audit/verification-keys.ts';
import { verifyAudit } from '../src/audit/verify.ts';
import { loadConfig } from '../src/config/load.ts';
import { nodeChainHashing } from '../src/store/chain-hashing.ts';
import type { PostgresStore } from '../src/store/postgres/index.ts';
import { TEST_POLICIES } from './support/app-fixture.ts';
import { runCli } from './support/cli-runner.ts';
import { API, startLoopFixture, startResourceServer, type LoopFixture, type ResourceServer } from './support/loop-fixture.ts';
import { hotReadTests } from './support/hot-reads.ts';
import { databaseFactory, startPostgres, type PostgresCluster } from './support/postgres.ts';

/**
 * The whole broker on PostgreSQL (`store.url`): the core loop end to end through the SDK, the
 * audit log verified, and a second replica on the same database that learns of a key rotation
 * through LISTEN/NOTIFY. If PostgreSQL cannot start, `before` throws and every test FAILS.
 */

let cluster: PostgresCluster;
let url: string;
let fx: LoopFixture;
let rs: ResourceServer;
before(async () => {
  cluster = await startPostgres();
  url = (await databaseFactory(cluster)()).url;
  // A long polling interval: what arrives quickly below came through LISTEN/NOTIFY.
  fx = await startLoopFixture({ config: { store: { url, pollInterval: '60s' } } });
  rs = await startResourceServer(fx);
});
after(async () => {
  await rs?.close();
  await fx?.close();
  await cluster?.stop();
});

test('the app runs on PostgreSQL: nothing is written to a SQLite file', () => {
  assert.ok('pool' in (fx.app.store as PostgresStore).raw, 'the store is the PostgreSQL one');
  assert.equal(existsSync(join(fx.app.config.dataDir, STORE_FILE)), false);
});

test('attest → ask → approve → token → mint → call → revoke → refused on PostgreSQL; the audit log verifies', async () => {
  const client = fx.agent.client();
  const notAfter = new Date(fx.clock.now() + 3_600_000);
  const { authReqId } = await client.ask({ loginHint: fx.alice.id, bindingMessage: 'Triage the items', task: { purpose: 'Triage the items', audience: API, actions: ['read'], notAfter } });
  const mandateId = await fx.pendingMandateOf(fx.agent.agent.id);
  const approved = await fx.adminApi('POST', `/admin/v1/mandates/${mandateId}/approve`, fx.secrets.alice);
  assert.equal(approved.status, 200, JSON.stringify(approved.body));
  const first = await client.waitForApproval(authReqId, { interval: 0.05, timeoutMs: 10_000 });
  assert.match(first.grant, /^mgr_/);
  const minted = await client.mint({ resource: API });
  const called = await client.fetch(`${rs.url}/items`, { method: 'GET', resource: API });
  assert.equal(called.status, 200);
  assert.deepEqual(await called.json(), { agent: fx.agent.agent.id, subject: fx.alice.id, autonomous: false });

  const revoked = await fx.adminApi('POST', `/admin/v1/mandates/${mandateId}/revoke`, fx.secrets.alice, { reason: 'task done' });
  assert.equal(revoked.status, 200, JSON.stringify(revoked.body));
  assert.equal((await client.fetch(`${rs.url}/items`, { method: 'GET', resource: API })).status, 401);
  const introspected = await fx.post('/introspect', { token: minted.accessToken, client_id: API, client_secret: 'api-introspection-secret' });
  assert.deepEqual(introspected.body, { active: false });

  const store = fx.app.store;
  const credentials = await store.credentials.listByMandate(mandateId);
  assert.equal(credentials.length, 2, 'the CIBA token and the minted one');
  assert.ok(credentials.every((c) => c.revokedAt !== null));
  const issued = (await store.audit.byMandate(mandateId, 100)).map((e) => e.type);
  assert.deepEqual(issued.filter((t) => t === 'token.issued').length, 2);
  assert.ok(issued.includes('mandate.revoked'));
  const report = await verifyAudit({ sink: store.audit, keys: await verificationKeysFromStore(store.keys), checkpointFile: fx.app.config.audit.checkpointFile, hashing: nodeChainHashing });
  assert.equal(report.ok, true, JSON.stringify(report.faults));
});

hotReadTests(() => fx);

test('`mandate audit verify` checks the audit log in PostgreSQL (store.url from MANDATE_STORE_URL), read-only', async () => {
  const verified = await runCli(['audit', 'verify', '--data', fx.app.config.dataDir], { MANDATE_STORE_URL: url });
  assert.equal(verified.exitCode, 0, verified.err);
  const refused = await runCli(['audit', 'verify', '--data', fx.app.config.dataDir], { MANDATE_STORE_URL: 'mysql://db/x' });
  assert.equal(refused.exitCode, 2);
});

test('a second replica on the same database learns of a key rotation within milliseconds, and writes its own audit chain', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mandate-replica-'));
  let replica: App | undefined;
  try {
    const configFile = join(dir, 'config.json');
    writeFileSync(configFile, JSON.stringify({ attestation: { policies: TEST_POLICIES }, store: { url, pollInterval: '60s' }, audit: { chain: 'replica-2' } }));
    replica = await createApp(loadConfig({ flags: { data: join(dir, 'data'), port: '0', logLevel: 'silent', config: configFile }, env: {} }));
    const kids = (app: App) => app.keys.publishedJwks().keys.map((k) => k.kid);
    assert.deepEqual(kids(replica), kids(fx.app), 'the replica shares the signing keys');

    const started = performance.now();
    const rotated = await fx.app.keys.rotate();
    while (!kids(replica).includes(rotated.kid)) {
      assert.ok(performance.now() - started < 3_000, 'the rotation did not reach the replica through NOTIFY');
      await new Promise((resolve) => setTimeout(resolve, 10));
    }

    await replica.audit.record({ type: 'human.added', actor: 'usr_replica' });
    const chains = await fx.app.store.audit.chains();
    assert.ok(chains.includes('main') && chains.includes('replica-2'), chains.join(','));
    assert.equal((await fx.app.store.audit.head('replica-2'))?.seq, 1);

    // `audit verify` over the shared database: every replica's chain, against the replicas' checkpoint files combined.
    const combined = join(dir, 'all-checkpoints.jsonl');
    writeFileSync(combined, [fx.app.config.audit.checkpointFile, replica.config.audit.checkpointFile].map((f) => readFileSync(f, 'utf8')).join(''));
    const report = await verifyAudit({ sink: fx.app.store.audit, keys: await verificationKeysFromStore(fx.app.store.keys), checkpointFile: combined, hashing: nodeChainHashing });
    assert.equal(report.ok, true, JSON.stringify(report.faults));
    assert.deepEqual(report.chains.map((c) => [c.chain, c.checkpointSeq === c.lastSeq]), [['main', true], ['replica-2', true]]);
  } finally {
    await replica?.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
