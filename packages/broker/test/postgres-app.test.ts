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
import { OAuthResponseError } from '@mandate/sdk';
import { GRANT_TYPE, TOKEN_TYPE } from '@mandate/sdk/protocol';
import { TEST_POLICIES } from './support/app-fixture.ts';
import { runCli } from './support/cli-runner.ts';
import { API, assertOAuthError, clientAuth, generateDpopKey, startLoopFixture, startResourceServer, type LoopFixture, type ResourceServer } from './support/loop-fixture.ts';
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

/** A new agent of alice's with an approved mandate at API and one token minted under it (so both rows are held in memory). */
async function agentWithMintedMandate(maxUses?: number) {
  const agent = await fx.addAgent();
  const key = await generateDpopKey();
  const client = agent.client({ dpopKey: key.pair });
  const notAfter = new Date(fx.clock.now() + 3_600_000);
  const task = { purpose: 'Read the items', audience: API, actions: ['read'], notAfter, ...(maxUses ? { maxUses } : {}) };
  const { authReqId } = await client.ask({ loginHint: fx.alice.id, bindingMessage: 'Read the items', task });
  const mandateId = await fx.pendingMandateOf(agent.agent.id);
  assert.equal((await fx.adminApi('POST', `/admin/v1/mandates/${mandateId}/approve`, fx.secrets.alice)).status, 200);
  const { grant } = await client.waitForApproval(authReqId, { interval: 0.05, timeoutMs: 10_000 });
  await client.mint({ resource: API });
  /** The grant's token exchange with an attestation result obtained now (the SDK's `mint` attests first, and `/attest` reads the store). */
  const exchanger = async () => {
    const actorToken = (await client.attest()).attestation;
    return async () => fx.post('/token', {
      ...(await clientAuth(agent)), grant_type: GRANT_TYPE.tokenExchange, subject_token: grant, subject_token_type: TOKEN_TYPE.refreshToken,
      actor_token: actorToken, actor_token_type: TOKEN_TYPE.jwt, resource: API,
    }, { dpop: await fx.proof(key, '/token') });
  };
  return { agent, client, mandateId, exchanger };
}

/** `mandate_cache_entries{cache}` as /metrics shows it. */
async function cached(cache: 'agents' | 'mandates'): Promise<number> {
  const line = (await fx.app.metrics.render()).split('\n').find((l) => l.startsWith(`mandate_cache_entries{cache="${cache}"}`));
  return Number(line?.split(' ').pop());
}

const refusal = (check: (error: OAuthResponseError) => void) => (error: unknown) => {
  assert.ok(error instanceof OAuthResponseError, String(error));
  check(error);
  return true;
};

test('active agents and mandates held in memory: a change the feed never announced is still refused by the token\'s commit, which empties the copies and gives the use back', async () => {
  const { agent, mandateId, exchanger } = await agentWithMintedMandate(4); // the CIBA token and one mint: 2 uses left
  const exchange = await exchanger();
  const tokens = async () => (await fx.app.store.credentials.listByMandate(mandateId)).length;
  const both = async () => [await cached('agents'), await cached('mandates')];
  const before = await tokens();
  assert.ok((await both()).every((n) => n >= 1), 'both rows are held');

  // Written straight to the store, without a change row: this replica still holds the agent as active.
  assert.equal(await fx.app.store.agents.setStatus(agent.agent.id, 'suspended', ['active']), true);
  assertOAuthError(await exchange(), 'ERR_CLIENT_INACTIVE', 'the agent is suspended');
  assert.deepEqual(await both(), [0, 0], 'the refusal emptied the copies');
  assert.equal(await fx.app.store.counters.remaining(mandateId), 2, 'the refused request\'s use came back');
  assertOAuthError(await exchange(), 'ERR_CLIENT_INACTIVE', 'the agent is suspended'); // now refused before its commit
  assert.equal(await fx.app.store.agents.setStatus(agent.agent.id, 'active', ['suspended']), true);
  assert.equal((await exchange()).status, 200);
  assert.ok((await both()).every((n) => n >= 1), 'held again');

  assert.equal(await fx.app.store.mandates.transition(mandateId, ['active'], { status: 'suspended', endReason: 'test' }), true);
  assertOAuthError(await exchange(), 'ERR_MINT_MANDATE_INACTIVE', 'the mandate is suspended', 'mandate_suspended');
  assert.deepEqual(await both(), [0, 0]);
  assert.equal(await fx.app.store.counters.remaining(mandateId), 1, 'given back');
  assert.equal(await tokens(), before + 1, 'no credential was stored for a refused request');
});

test('a change on the feed empties the replica\'s copies: the next request is refused at authentication', async () => {
  const { agent, client } = await agentWithMintedMandate();
  assert.ok((await cached('agents')) >= 1);
  assert.equal((await fx.adminApi('POST', `/admin/v1/agents/${agent.agent.id}/suspend`, fx.secrets.admin)).status, 200);
  const started = performance.now();
  while ((await cached('agents')) > 0 || (await cached('mandates')) > 0) {
    assert.ok(performance.now() - started < 3_000, 'the suspension\'s change did not empty the caches');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  await assert.rejects(client.mint({ resource: API }), refusal((error) => assert.equal(error.errorDescription, 'the agent is suspended')));
  assert.equal(await cached('agents'), 0, 'a suspended agent is not kept');
});

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
