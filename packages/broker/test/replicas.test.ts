import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import pg from 'pg';
import { createAgentClient, OAuthResponseError, type AgentClient } from '@mandate/sdk';
import { adminQuery, startPostgres, type PostgresCluster } from './support/postgres.ts';

/**
 * Two real `mandate serve` processes on one PostgreSQL database, behind one public issuer URL
 * (docs/deployment.md). The "load balancer" is the SDK's `fetch`: each client sends every request
 * for the issuer to one replica's port, while every proof, assertion `aud` and DPoP `htu` names
 * the shared issuer. If PostgreSQL cannot start, `before` throws and every test FAILS.
 */

const BIN = new URL('../bin/mandate.js', import.meta.url).pathname;
const ISSUER = 'https://mandate.example.com';
const API = 'https://api.example.com';
const API_SECRET = 'replica-api-introspection-secret';
const MAX_USES = 5;
const MINTS = 60;
/** Long on purpose: a rotation seen by the other replica within it came through LISTEN/NOTIFY, not polling. */
const POLL_INTERVAL = '60s';
const NOTIFY_BOUND_MS = 3_000;

const dir = mkdtempSync(join(tmpdir(), 'mandate-replicas-'));
const children = new Set<ChildProcess>();
let cluster: PostgresCluster;
let storeUrl: string;

interface Replica {
  name: string;
  chain: string;
  data: string;
  base: string;
  child: ChildProcess;
  output: () => string;
}
const replicas: Replica[] = [];
const A = () => replicas[0]!;
const B = () => replicas[1]!;

before(async () => {
  cluster = await startPostgres();
  await adminQuery(cluster, 'CREATE DATABASE mandate_replicas');
  storeUrl = cluster.urlFor('mandate_replicas');
  // Started one after the other: the first one migrates the empty database and bootstraps the admin.
  replicas.push(await serve('a'));
  replicas.push(await serve('b'));
});
after(async () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await cluster?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** One shared config but for the replica's own audit chain; its own data directory (checkpoint file). */
function writeConfig(name: string): string {
  const file = join(dir, `replica-${name}.json`);
  writeFileSync(file, JSON.stringify({
    issuer: ISSUER,
    store: { pollInterval: POLL_INTERVAL },
    audit: { chain: `replica-${name}`, crossCheckpointInterval: '1s' },
    // 60 concurrent mints by one agent test maxUses across replicas, not the per-client rate limit
    // (test/rate-limits.test.ts); with the default 10/s, burst 20, most would get 429 instead.
    limits: { enabled: false },
    audiences: { [API]: { actions: ['read'], introspectionSecretSha256: createHash('sha256').update(API_SECRET).digest('base64url') } },
    attestation: { attestors: { 'code-digest': {} }, policies: { default: { anyOf: [{ allOf: [{ attestor: 'code-digest', minStatus: 'warning' }] }] } } },
  }));
  return file;
}

async function serve(name: string): Promise<Replica> {
  const data = join(dir, `data-${name}`);
  const args = [BIN, 'serve', '--config', writeConfig(name), '--data', data, '--port', '0', '--log-level', 'warn'];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, MANDATE_STORE_URL: storeUrl } });
  children.add(child);
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const base = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`replica ${name} did not start:\n${out}`)), 30_000);
    child.stdout!.on('data', () => {
      const match = /listening on (http:\/\/[\d.]+:\d+)/.exec(out);
      if (match) resolve(match[1]!), clearTimeout(timer);
    });
    child.once('exit', (code) => reject(new Error(`replica ${name} exited with ${code}:\n${out}`)));
  });
  return { name, chain: `replica-${name}`, data, base, child, output: () => out };
}

/** What a load balancer does: requests for the public issuer go to this replica's port. */
const routeTo = (replica: Replica): typeof fetch => (input, init) => fetch(String(input).replace(ISSUER, replica.base), init);

const adminToken = () => readFileSync(join(A().data, 'admin-token'), 'utf8').trim();
async function admin(replica: Replica, method: string, path: string, body?: unknown) {
  const response = await fetch(replica.base + path, {
    method,
    headers: { authorization: `Bearer ${adminToken()}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: response.status, body: (await response.json()) as Record<string, any> };
}

/** Runs `mandate <args>` as its own process (the CLI a human would type). */
function cli(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; out: string; err: string }> {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (err += d));
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, out, err })));
}

interface Agent {
  id: string;
  human: string;
  client(replica: Replica, grants?: Record<string, string>): AgentClient;
}
let agentPromise: Promise<Agent> | undefined;
const agent = () => (agentPromise ??= registerAgent());

async function registerAgent(): Promise<Agent> {
  const humans = await admin(B(), 'GET', '/admin/v1/humans');
  const human = String(humans.body.humans[0].id);
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  const { kty, crv, x, y } = await exportJWK(publicKey);
  const registered = await admin(A(), 'POST', '/admin/v1/agents', { name: 'replica-bot', owners: [human], policy: 'default', jwk: { kty, crv, x, y } });
  assert.equal(registered.status, 201, JSON.stringify(registered.body));
  const clientKey: JWK = await exportJWK(privateKey);
  const evidence = [{ attestor: 'code-digest', evidence: { digest: `sha256:${'ab'.repeat(32)}` } }];
  const id = String(registered.body.id);
  return { id, human, client: (replica, grants) => createAgentClient({ issuer: ISSUER, clientId: id, clientKey, evidence, fetch: routeTo(replica), ...(grants ? { grants } : {}) }) };
}

/** Asks through `ask`, approves through `approve` (another replica may serve each step), collects the grant. */
async function approvedMandate(ask: Replica, approve: Replica, maxUses?: number): Promise<{ id: string; grant: string; accessToken: string }> {
  const { id: agentId, human, client } = await agent();
  const asking = client(ask);
  const notAfter = new Date(Date.now() + 3_600_000);
  const { authReqId } = await asking.ask({ loginHint: human, bindingMessage: 'Read the items', task: { purpose: 'Read the items', audience: API, actions: ['read'], notAfter, ...(maxUses ? { maxUses } : {}) } });
  const pending = await admin(approve, 'GET', `/admin/v1/mandates?status=pending&agent=${agentId}`);
  const id = String(pending.body.mandates[0].id);
  const approved = await admin(approve, 'POST', `/admin/v1/mandates/${id}/approve`);
  assert.equal(approved.status, 200, JSON.stringify(approved.body));
  const { grant, accessToken } = await asking.waitForApproval(authReqId, { interval: 0.05, timeoutMs: 10_000 });
  return { id, grant, accessToken };
}

test('both replicas serve one issuer: the metadata names it, not their ports', async () => {
  for (const replica of replicas) {
    const metadata = (await (await fetch(`${replica.base}/.well-known/oauth-authorization-server`)).json()) as Record<string, string>;
    assert.equal(metadata.issuer, ISSUER);
    assert.equal(metadata.token_endpoint, `${ISSUER}/token`);
  }
  assert.notEqual(A().base, B().base);
});

test(`of ${MINTS} concurrent mints over both replicas, only maxUses tokens exist in all (mandate_exhausted for the rest)`, async () => {
  const { id, grant } = await approvedMandate(A(), B(), MAX_USES);
  const { client } = await agent();
  const viaA = client(A(), { [API]: grant });
  const viaB = client(B(), { [API]: grant });
  const started = performance.now();
  const results = await Promise.allSettled(Array.from({ length: MINTS }, (_, i) => (i % 2 ? viaB : viaA).mint({ resource: API })));
  const minted = results.filter((r) => r.status === 'fulfilled').length;
  const refusals = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as Error] : []));
  console.log(`# ${MINTS} concurrent mints over 2 replicas: ${minted} minted, ${refusals.length} refused in ${Math.round(performance.now() - started)} ms`);
  // PROTOCOL §5: maxUses counts every access token of the mandate, the CIBA one included.
  assert.equal(minted, MAX_USES - 1);
  for (const error of refusals) {
    assert.ok(error instanceof OAuthResponseError, String(error));
    assert.equal(error.oauthError, 'invalid_request');
    assert.equal(error.mandateError, 'mandate_exhausted');
  }
  const shown = await admin(B(), 'GET', `/admin/v1/mandates/${id}`);
  assert.equal(shown.body.status, 'exhausted');
  assert.equal(shown.body.credentials.length, MAX_USES, 'the CIBA token and the minted ones');
  const issuedIn = new Set(shown.body.audit.filter((e: { type: string }) => e.type === 'token.issued').map((e: { chain: string }) => e.chain));
  assert.equal(shown.body.audit.filter((e: { type: string }) => e.type === 'token.issued').length, MAX_USES);
  assert.ok([...issuedIn].every((chain) => chain === A().chain || chain === B().chain), [...issuedIn].join(','));
});

test('a mandate revoked on replica A is refused on replica B: no mint, introspection inactive', async () => {
  const { id, grant } = await approvedMandate(A(), A());
  const { client } = await agent();
  const viaB = client(B(), { [API]: grant });
  const before = await viaB.mint({ resource: API });
  const introspect = async (token: string) => {
    const response = await fetch(`${B().base}/introspect`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ token, client_id: API, client_secret: API_SECRET }) });
    return (await response.json()) as Record<string, unknown>;
  };
  assert.equal((await introspect(before.accessToken)).active, true);

  const revoked = await admin(A(), 'POST', `/admin/v1/mandates/${id}/revoke`, { reason: 'replica test' });
  assert.equal(revoked.status, 200, JSON.stringify(revoked.body));
  await assert.rejects(viaB.mint({ resource: API }), (error: unknown) => error instanceof OAuthResponseError && error.oauthError === 'invalid_request' && error.mandateError === 'mandate_revoked');
  assert.deepEqual(await introspect(before.accessToken), { active: false });
});

test('`mandate keys rotate` against replica A: replica B’s /jwks serves the new key within the NOTIFY bound', async () => {
  const kids = async (replica: Replica) => ((await (await fetch(`${replica.base}/jwks`)).json()) as { keys: Array<{ kid: string }> }).keys.map((k) => k.kid);
  const known = new Set(await kids(A()));
  // Both /jwks are watched while the CLI runs: the delay is from A serving the new key to B serving it.
  const firstSeen = new Map<string, number>();
  const watch = (async () => {
    const deadline = performance.now() + 30_000;
    while (!firstSeen.has('b') && performance.now() < deadline) {
      const [onA, onB] = await Promise.all([kids(A()), kids(B())]);
      const now = performance.now();
      if (!firstSeen.has('a') && onA.some((kid) => !known.has(kid))) firstSeen.set('a', now);
      if (onB.some((kid) => !known.has(kid))) firstSeen.set('b', now);
    }
  })();
  const rotated = await cli(['keys', 'rotate', '--url', A().base, '--data', A().data, '--json']);
  assert.equal(rotated.code, 0, rotated.err);
  await watch;
  const kid = String((JSON.parse(rotated.out) as { kid: string }).kid);
  assert.ok((await kids(B())).includes(kid));
  assert.ok(firstSeen.has('a') && firstSeen.has('b'), 'B never served the new key');
  const delay = Math.max(0, firstSeen.get('b')! - firstSeen.get('a')!);
  console.log(`# key rotation: B's /jwks served the new key ${delay.toFixed(1)} ms after A's did (store.pollInterval ${POLL_INTERVAL}, so through NOTIFY)`);
  assert.ok(delay < NOTIFY_BOUND_MS, `replica B served ${kid} ${delay} ms after A`);
});

test('a third replica configured with replica A’s audit.chain refuses to start (config error at audit.chain)', async () => {
  const started = await cli(['serve', '--config', join(dir, 'replica-a.json'), '--data', join(dir, 'data-a2'), '--port', '0', '--log-level', 'warn'], { MANDATE_STORE_URL: storeUrl });
  assert.equal(started.code, 2, started.out + started.err);
  assert.match(started.err, /^config error at audit\.chain: chain "replica-a" is being written by another running replica/m);
  assert.doesNotMatch(started.out, /listening/);
});

test('both replicas stopped by PID; `mandate audit verify` checks both chains and their cross-checkpoints', async () => {
  const client = new pg.Client({ connectionString: storeUrl });
  await client.connect();
  const crossCheckpoints = async () =>
    (await client.query<{ chain: string }>(`select distinct chain from audit_events where type = 'audit.cross_checkpointed' order by chain`)).rows.map((r) => r.chain);
  try {
    // Each replica pins the other's head every second (audit.crossCheckpointInterval) once both chains exist.
    for (let i = 0; i < 100 && (await crossCheckpoints()).length < 2; i++) await new Promise((resolve) => setTimeout(resolve, 50));
    assert.deepEqual(await crossCheckpoints(), [A().chain, B().chain]);
  } finally {
    await client.end();
  }
  for (const replica of replicas) {
    const exited = new Promise<number | null>((resolve) => replica.child.once('exit', resolve));
    process.kill(replica.child.pid!, 'SIGTERM');
    assert.equal(await exited, 0, replica.output());
  }
  // Each replica wrote the external checkpoints of its own chain to its own data directory: combined for verify.
  const combined = join(dir, 'all-checkpoints.jsonl');
  writeFileSync(combined, replicas.map((r) => readFileSync(join(r.data, 'audit-checkpoints.jsonl'), 'utf8')).join(''));
  const verifyConfig = join(dir, 'verify.json');
  writeFileSync(verifyConfig, JSON.stringify({ audit: { checkpointFile: combined } }));
  const verified = await cli(['audit', 'verify', '--config', verifyConfig, '--data', join(dir, 'verify-data'), '--json'], { MANDATE_STORE_URL: storeUrl });
  assert.equal(verified.code, 0, verified.out + verified.err);
  const report = JSON.parse(verified.out) as { ok: boolean; chains: Array<{ chain: string; lastSeq: number; checkpointSeq: number }> };
  assert.deepEqual(report.chains.map((c) => [c.chain, c.checkpointSeq === c.lastSeq]), [[A().chain, true], [B().chain, true]]);
});
