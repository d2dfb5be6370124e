import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import type { EvidenceProvider } from '@mandate/sdk';
import { CLIENT_ASSERTION_TYPE, GRANT_TYPE, TOKEN_TYPE } from '@mandate/sdk/protocol';
import { createClusterSigner, type ClusterSigner } from '../src/attestors/k8s-sa-token/cluster-signer.ts';
import { startLocalTrustDomain, type LocalTrustDomain } from '../src/attestors/spiffe-jwt-svid/local-trust-domain.ts';
import { createApp } from '../src/app.ts';
import { ConfigError, loadConfig } from '../src/config/load.ts';
import { SESSION_COOKIE } from '../src/console/session-cookie.ts';
import { API, CODE_DIGEST, generateDpopKey, SECRETS, startLoopFixture, startResourceServer, type LoopAgent, type LoopFixture } from './support/loop-fixture.ts';
import { databaseFactory, startPostgres, type PostgresCluster } from './support/postgres.ts';

/**
 * Issue #11 item 4: no secret and no raw bearer evidence in logs, errors, audit or the database.
 * A full loop (register, attest with OIDC + Kubernetes + SPIFFE evidence, CIBA approval, mints,
 * introspection, revocation, admin and console calls, a failing request of each kind) runs with
 * the server logging at `trace`. Every credential that crosses the wire is collected on the way (a
 * wrapper around `fetch`), then searched for in every log line, every error response, the audit
 * export and the database files; the same loop runs on PostgreSQL with a password in `store.url`
 * and its `pg_dump` is searched too. JWTs are searched by their signature (unique per token).
 */
const CLUSTER = 'https://kubernetes.default.svc.cluster.local';
const WEBHOOK_SECRET = randomBytes(32).toString('base64url');
const WRAP = randomBytes(32).toString('base64url');
const METRICS_TOKEN = `metrics-${randomBytes(16).toString('base64url')}`;
const JWT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
/** Form fields and JSON members that carry a credential (requests and successful responses). */
const SECRET_FIELDS = new Set(['client_assertion', 'subject_token', 'actor_token', 'token', 'attestation', 'client_secret', 'refresh_token', 'access_token', 'secret']);

const dir = mkdtempSync(join(tmpdir(), 'mandate-secrets-'));
let cluster: ClusterSigner;
let spiffe: LocalTrustDomain;
let receiver: { url: string; bodies: string[]; server: Server };

/** What one run saw: the secrets (needle → kind) and everything they must not appear in. */
class Run {
  readonly secrets = new Map<string, string>();
  readonly logs: string[] = [];
  readonly errors: string[] = [];
  readonly kinds = new Map<string, number>();

  remember(kind: string, value: string | undefined | null): void {
    if (typeof value !== 'string' || value.length < 16) return;
    // A JWT by its signature: unique per token, and what an attacker needs besides the public claims.
    const needle = JWT.test(value) ? value.split('.')[2]! : value;
    if (needle.length < 16 || this.secrets.has(needle)) return;
    this.secrets.set(needle, kind);
    this.kinds.set(kind, (this.kinds.get(kind) ?? 0) + 1);
  }

  /** Every secret found in `text`, as `kind in where`. */
  leaks(where: string, text: string): string[] {
    // With what precedes it, so a failure names the table, log message or member that holds it.
    const context = (at: number) => text.slice(Math.max(0, at - 160), at).replace(/[^\x20-\x7e]/g, '.');
    return [...this.secrets].filter(([needle]) => text.includes(needle)).map(([needle, kind]) => `${kind} in ${where} after …${context(text.indexOf(needle))}`);
  }
}

let run: Run;
const realFetch = globalThis.fetch;

function collectHeaders(headers: Headers): void {
  const authorization = headers.get('authorization') ?? '';
  const [scheme, value] = [authorization.split(' ')[0], authorization.slice(authorization.indexOf(' ') + 1)];
  if (scheme === 'Bearer' || scheme === 'DPoP') run.remember(value.startsWith('mat_') ? 'admin token secret' : 'access token', value.startsWith('mat_') ? value.split('.')[1] : value);
  if (scheme === 'Basic') run.remember('introspection secret', decodeURIComponent(Buffer.from(value, 'base64').toString('utf8').split(':')[1] ?? ''));
  run.remember('DPoP proof', headers.get('dpop'));
  run.remember('client attestation', headers.get('oauth-client-attestation'));
  run.remember('client attestation PoP', headers.get('oauth-client-attestation-pop'));
  const cookie = /__Host-mandate_session=([A-Za-z0-9_-]+)/.exec(headers.get('cookie') ?? '');
  run.remember('console session', cookie?.[1]);
}

function kindOf(name: string, value: string): string {
  if (name === 'client_assertion') return 'client assertion';
  if (name === 'token' || name === 'subject_token' || name === 'refresh_token') return value.startsWith('mgr_') ? 'mandate grant' : 'access token';
  if (name === 'access_token') return 'access token';
  if (name === 'attestation' || name === 'actor_token') return 'attestation result';
  if (name === 'secret') return 'admin token secret';
  return name.replace(/_/g, ' ');
}

/** Walks JSON (requests and 2xx responses) for credential members, evidence tokens and invite links. */
function collectJson(value: unknown, name = ''): void {
  if (typeof value === 'string') {
    // `attestation` also names attestation ids (`att_…`) in admin responses: only the JWT is a credential.
    if (SECRET_FIELDS.has(name) && !(name === 'attestation' && !JWT.test(value))) run.remember(kindOf(name, value), name === 'secret' && value.startsWith('mat_') ? value.split('.')[1] : value);
    if (name === 'evidence' && JWT.test(value)) run.remember('raw evidence JWT', value);
    const invite = /\/console\/enroll\/([A-Za-z0-9_-]{43})/.exec(value);
    if (invite) run.remember('invite token', invite[1]);
    return;
  }
  if (Array.isArray(value)) for (const item of value) collectJson(item, name);
  else if (typeof value === 'object' && value !== null) for (const [key, member] of Object.entries(value)) collectJson(member, key);
}

function collectBody(contentType: string, body: string): void {
  if (!body) return;
  if (contentType.includes('application/x-www-form-urlencoded')) for (const [name, value] of new URLSearchParams(body)) collectJson(value, name);
  else if (contentType.includes('json')) {
    try {
      collectJson(JSON.parse(body));
    } catch {
      // not JSON after all: nothing to collect
    }
  }
}

/** Every request in this process (SDK, fixture, resource server, the broker's own fetches) passes here. */
async function recordingFetch(input: string | URL | Request, init?: RequestInit): Promise<Response> {
  const request = new Request(input, init);
  collectHeaders(request.headers);
  collectBody(request.headers.get('content-type') ?? '', await request.clone().text());
  const response = await realFetch(request);
  const text = await response.clone().text();
  if (response.status >= 400) run.errors.push(`${response.status} ${request.method} ${request.url} ${JSON.stringify([...response.headers])} ${text}`);
  else collectBody(response.headers.get('content-type') ?? '', text);
  return response;
}

/** Captures the server's JSON log lines and anything written to stderr. */
function captureLogs(target: Run) {
  const write = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((chunk: string | Uint8Array, ...rest: never[]) => {
    target.logs.push(String(chunk));
    return write(chunk, ...rest);
  }) as typeof process.stderr.write;
  return { destination: { write: (line: string) => void target.logs.push(line) }, restore: () => void (process.stderr.write = write) };
}

function evidenceFor(): EvidenceProvider {
  return async ({ audience }) => [
    { attestor: 'oidc-token', evidence: await fx().oidc.sign({ aud: audience }) },
    { attestor: 'k8s-sa-token', evidence: await cluster.sign({ audience }) },
    { attestor: 'spiffe-jwt-svid', evidence: await spiffe.sign({ aud: [audience] }) },
    { attestor: 'code-digest', evidence: { digest: CODE_DIGEST } },
  ];
}

let current: LoopFixture;
const fx = () => current;

function loopConfig(extra: Record<string, unknown>): Record<string, unknown> {
  return {
    ...extra,
    keys: { encryptionKeyEnv: 'MANDATE_TEST_SECRETS_WRAP' },
    metrics: { bearerToken: METRICS_TOKEN },
    notifications: { webhooks: [{ name: 'chat', url: receiver.url, secretEnv: 'MANDATE_TEST_WEBHOOK_SECRET' }], maxAttempts: 2, initialBackoff: '1s' },
    attestation: {
      attestors: {
        'k8s-sa-token': { issuer: CLUSTER, jwksFile: join(dir, 'cluster-jwks.json'), namespaces: ['agents'] },
        'spiffe-jwt-svid': { trustDomains: [{ trustDomain: spiffe.trustDomain, bundleFile: join(dir, 'spiffe-bundle.json') }] },
      },
      policies: { all: { freshness: '120s', anyOf: [{ allOf: [{ attestor: 'oidc-token' }, { attestor: 'k8s-sa-token' }, { attestor: 'spiffe-jwt-svid' }, { attestor: 'code-digest', minStatus: 'warning' }] }] } },
    },
  };
}

/** The loop, then one failing request of each kind. Everything goes over HTTP through `recordingFetch`. */
async function runLoop(f: LoopFixture): Promise<void> {
  const agent = await f.addAgent({ owners: [f.alice.id], policy: 'all' });
  run.remember('agent private key d', agent.privateJwk.d);
  const dpopPair = await generateKeyPair('ES256', { extractable: true });
  run.remember('DPoP private key d', (await exportJWK(dpopPair.privateKey)).d);
  const client = agent.client({ evidence: evidenceFor(), dpopKey: dpopPair });
  const attestation = await client.attest();
  const { authReqId } = await client.ask({
    loginHint: f.alice.id, bindingMessage: 'Read the items', attestation,
    task: { purpose: 'Read the items', audience: API, actions: ['read'], notAfter: new Date(f.clock.now() + 3_600_000) },
  });
  const approval = await f.adminApi('POST', `/admin/v1/mandates/${await f.pendingMandateOf(agent.agent.id)}/approve`, f.secrets.alice);
  assert.equal(approval.status, 200, JSON.stringify(approval.body));
  const first = await client.waitForApproval(authReqId, { interval: 0.05, timeoutMs: 10_000 });
  const minted = await client.mint({ resource: API });
  const rs = await startResourceServer(f);
  try {
    assert.equal((await client.fetch(`${rs.url}/items`, { resource: API })).status, 200);
  } finally {
    await rs.close();
  }
  assert.equal((await f.post('/introspect', { token: minted.accessToken, client_id: API, client_secret: SECRETS[API]! })).body.active, true);
  const revoked = await f.post('/revoke', { token: first.accessToken, client_id: agent.agent.id, client_assertion_type: CLIENT_ASSERTION_TYPE, client_assertion: await agent.assertion() });
  assert.equal(revoked.status, 200);
  await adminCalls(f);
  await consoleCalls(f);
  await failingRequests(f, agent, minted.accessToken, first.grant);
  await revokeGrant(f, agent, first.grant);
  await until(() => receiver.bodies.length > 0, 'a webhook delivery');
}

async function adminCalls(f: LoopFixture): Promise<void> {
  const human = await f.adminApi('POST', '/admin/v1/humans', f.secrets.admin, { name: 'Secretive', email: 's@example.com' });
  assert.equal(human.status, 201);
  assert.equal((await f.adminApi('POST', `/admin/v1/humans/${String(human.body.id)}/invites`, f.secrets.admin)).status, 201);
  const token = await f.adminApi('POST', '/admin/v1/tokens', f.secrets.admin, { label: 'ci', rights: ['audit:read'] });
  assert.equal(token.status, 201);
  assert.equal((await f.adminApi('GET', '/admin/v1/audit/events?limit=5', String(token.body.secret))).status, 200);
  assert.equal((await f.adminApi('POST', `/admin/v1/tokens/${String(token.body.id)}/revoke`, f.secrets.admin)).status, 200);
  assert.equal((await f.adminApi('POST', '/admin/v1/keys/rotate', f.secrets.admin)).status, 201);
  assert.equal((await f.adminApi('GET', '/admin/v1/keys', f.secrets.admin)).status, 200);
  for (const record of await f.app.store.keys.list()) run.remember('broker signing key d', record.privateJwk.d);
  // The HMAC keys of DPoP nonces, attest challenges, TPM enrolment and console state (opened by the sealing wrapper).
  for (const { value } of await f.app.store.secrets.list()) run.remember('broker HMAC secret', value);
  run.remember('metrics token', METRICS_TOKEN);
  assert.equal((await recordingFetch(`${f.issuer}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })).status, 200);
  run.remember('webhook secret', WEBHOOK_SECRET);
  run.remember('wrapping key', WRAP);
  for (const secret of Object.values(SECRETS)) run.remember('introspection secret', secret);
}

async function consoleCalls(f: LoopFixture): Promise<void> {
  const value = await f.app.console.auth.startSession(f.admin.id, 'passkey', 'req_SECRETSSECRETSSECRETS', false);
  const cookie = `${SESSION_COOKIE}=${value}`;
  assert.equal((await recordingFetch(`${f.issuer}/console/inbox`, { headers: { cookie } })).status, 200);
  const csrf = await recordingFetch(`${f.issuer}/console/signout`, { method: 'POST', headers: { cookie, origin: f.app.console.origin, 'content-type': 'application/x-www-form-urlencoded' }, body: `_csrf=${'x'.repeat(43)}` });
  assert.equal(csrf.status, 403, 'a forged CSRF token is refused');
}

async function failingRequests(f: LoopFixture, agent: LoopAgent, accessToken: string, grant: string): Promise<void> {
  const { privateKey } = await generateKeyPair('ES256');
  const now = Math.floor(f.clock.now() / 1000);
  const forged = await new SignJWT({ iss: agent.agent.id, sub: agent.agent.id, aud: f.issuer, iat: now, exp: now + 30, jti: randomBytes(8).toString('hex') }).setProtectedHeader({ alg: 'ES256' }).sign(privateKey);
  const auth = async () => ({ client_id: agent.agent.id, client_assertion_type: CLIENT_ASSERTION_TYPE, client_assertion: await agent.assertion() });
  const key = await generateDpopKey();
  const expect4xx = async (what: string, response: Promise<{ status: number }>) => {
    const status = (await response).status;
    assert.ok(status >= 400 && status < 500, `${what}: ${status}`);
  };
  await expect4xx('a forged client assertion', f.post('/token', { grant_type: GRANT_TYPE.tokenExchange, client_id: agent.agent.id, client_assertion_type: CLIENT_ASSERTION_TYPE, client_assertion: forged }));
  await expect4xx('a DPoP proof of another key for the grant', f.post('/token', { ...(await auth()), grant_type: GRANT_TYPE.tokenExchange, subject_token: grant, subject_token_type: TOKEN_TYPE.refreshToken, resource: API }, { dpop: await f.proof(key, '/token', { htu: `${f.issuer}/token/` }) }));
  await expect4xx('an unknown grant', f.post('/token', { ...(await auth()), grant_type: GRANT_TYPE.tokenExchange, subject_token: `mgr_${randomBytes(32).toString('base64url')}`, subject_token_type: TOKEN_TYPE.refreshToken, resource: API }, { dpop: await f.proof(key, '/token') }));
  const tampered = `${(await f.oidc.sign({ aud: f.issuer })).slice(0, -4)}AAAA`;
  run.remember('raw evidence JWT', tampered);
  const nonce = ((await f.post('/challenge', {})).body.nonce as string) ?? 'n';
  await expect4xx('tampered OIDC evidence', f.postJson('/attest', { ...(await auth()), nonce, evidence: [{ attestor: 'oidc-token', evidence: tampered }, { attestor: 'k8s-sa-token', evidence: await cluster.sign({ audience: 'wrong' }) }] }, { dpop: await f.proof(key, '/attest') }));
  await expect4xx('a wrong introspection secret', f.post('/introspect', { token: accessToken, client_id: API, client_secret: `wrong-${randomBytes(16).toString('base64url')}` }));
  await expect4xx('revocation without client authentication', f.post('/revoke', { token: accessToken }));
  await expect4xx('an unknown admin token', f.adminApi('GET', '/admin/v1/humans', `mat_${'Q'.repeat(22)}.${randomBytes(32).toString('base64url')}`));
  await expect4xx('a garbage attestation at /bc-authorize', f.post('/bc-authorize', { ...(await auth()), login_hint: f.alice.id, attestation: `${forged}x` }));
  await expect4xx('a wrong metrics token', recordingFetch(`${f.issuer}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}-wrong` } }));
  await expect4xx('an access token at the admin API', f.adminApi('GET', '/admin/v1/humans', accessToken));
}

async function revokeGrant(f: LoopFixture, agent: LoopAgent, grant: string): Promise<void> {
  const response = await f.post('/revoke', { token: grant, client_id: agent.agent.id, client_assertion_type: CLIENT_ASSERTION_TYPE, client_assertion: await agent.assertion() });
  assert.equal(response.status, 200);
}

async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((resolve) => setTimeout(resolve, 50));
  assert.ok(check(), `waited for ${what}`);
}

/** The audit log as an operator exports it, both formats. */
async function auditExports(f: LoopFixture): Promise<string> {
  const pages: string[] = [];
  for (const format of ['jsonl', 'ocsf']) {
    const response = await realFetch(`${f.issuer}/admin/v1/audit/export?format=${format}&limit=1000`, { headers: { authorization: `Bearer ${f.secrets.admin}` } });
    assert.equal(response.status, 200, format);
    pages.push(await response.text());
  }
  return pages.join('\n');
}

function storeFiles(data: string): string {
  return readdirSync(data).filter((name) => name.startsWith('mandate.db')).map((name) => readFileSync(join(data, name)).toString('latin1')).join('\n');
}

function assertCollected(r: Run, extra: string[] = []): void {
  const wanted = ['access token', 'mandate grant', 'client assertion', 'DPoP proof', 'attestation result', 'raw evidence JWT', 'admin token secret', 'invite token', 'webhook secret',
    'broker signing key d', 'broker HMAC secret', 'agent private key d', 'DPoP private key d', 'console session', 'introspection secret', 'metrics token', ...extra];
  for (const kind of wanted) assert.ok((r.kinds.get(kind) ?? 0) > 0, `no ${kind} was collected: the loop did not exercise it`);
  // OIDC, Kubernetes and SPIFFE evidence each, besides the tampered one.
  assert.ok((r.kinds.get('raw evidence JWT') ?? 0) >= 4);
}

before(async () => {
  cluster = await createClusterSigner(CLUSTER);
  spiffe = await startLocalTrustDomain();
  writeFileSync(join(dir, 'cluster-jwks.json'), JSON.stringify(cluster.jwks));
  writeFileSync(join(dir, 'spiffe-bundle.json'), JSON.stringify(spiffe.bundle()));
  const bodies: string[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d)).on('end', () => {
      bodies.push(`${JSON.stringify(req.headers)} ${body}`);
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  receiver = { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, bodies, server };
  process.env.MANDATE_TEST_WEBHOOK_SECRET = WEBHOOK_SECRET;
  process.env.MANDATE_TEST_SECRETS_WRAP = WRAP;
  globalThis.fetch = recordingFetch as typeof fetch;
});
after(async () => {
  globalThis.fetch = realFetch;
  delete process.env.MANDATE_TEST_WEBHOOK_SECRET;
  delete process.env.MANDATE_TEST_SECRETS_WRAP;
  await new Promise((resolve) => receiver.server.close(resolve));
  await spiffe.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('SQLite: a full loop at log level trace', () => {
  const r = new Run();
  let logs: ReturnType<typeof captureLogs>;
  let audit = '';
  let metrics = '';
  let files = '';
  before(async () => {
    run = r;
    logs = captureLogs(r);
    current = await startLoopFixture({ config: loopConfig({}), logDestination: logs.destination, logLevel: 'trace' });
    await runLoop(current);
    audit = await auditExports(current);
    metrics = await (await realFetch(`${current.issuer}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })).text();
    files = storeFiles(current.app.config.dataDir);
  });
  after(async () => {
    logs.restore();
    await current?.close();
    const counts = [...r.kinds].map(([kind, n]) => `${kind}: ${n}`).join(', ');
    process.stdout.write(`# secrets searched (SQLite run): ${r.secrets.size} (${counts}); ${r.logs.length} log lines, ${r.errors.length} error responses\n`);
  });

  test('the loop exercised every kind of secret (the search below is not vacuous)', () => {
    assertCollected(r);
    assert.ok(r.logs.length > 50, `${r.logs.length} log lines`);
    assert.equal(current.app.config.log.level, 'trace');
    assert.ok(r.logs.some((line) => line.includes('"msg":"request completed"')), 'request lines were captured');
    assert.ok(r.errors.length >= 10, `${r.errors.length} error responses`);
  });
  test('no secret in any log line (trace level) or stderr', () => {
    assert.deepEqual(r.logs.flatMap((line, i) => r.leaks(`log line ${i}: ${line.slice(0, 200)}`, line)), []);
  });
  test('no secret in any error response (body and headers)', () => {
    assert.deepEqual(r.errors.flatMap((body) => r.leaks(body.slice(0, 200), body)), []);
  });
  test('no secret in the audit export (JSON lines and OCSF)', () => {
    assert.ok(audit.length > 1000);
    assert.deepEqual(r.leaks('the audit export', audit), []);
  });
  test('no secret in the Prometheus metrics', () => {
    assert.match(metrics, /mandate_/);
    assert.deepEqual(r.leaks('/metrics', metrics), []);
  });
  test('no secret in the database files (mandate.db, -wal, -shm), and no "d": of a private JWK', () => {
    assert.ok(files.length > 10_000);
    assert.deepEqual(r.leaks('the SQLite files', files), []);
    assert.doesNotMatch(files, /"d":"/);
  });
  test('webhook deliveries carry no secret but their signature', () => {
    assert.deepEqual(receiver.bodies.flatMap((body) => r.leaks('a webhook delivery', body)), []);
  });
  test('control: a secret planted in a server log line is found (the search can fail)', () => {
    const [needle, kind] = [...r.secrets].find(([, k]) => k === 'access token')!;
    const before = r.logs.length;
    current.app.http.log.info({ note: `…${needle}…` }, 'planted by the test');
    assert.ok(r.logs.length > before, 'the planted line was captured');
    assert.deepEqual(r.logs.slice(before).flatMap((line) => r.leaks('planted', line)).map((leak) => leak.split(' in ')[0]), [kind]);
    r.logs.length = before;
  });
});

describe('PostgreSQL: the same loop, a password in store.url, and a pg_dump', () => {
  const r = new Run();
  const PASSWORD = `pw-${randomBytes(12).toString('base64url')}`;
  let pgCluster: PostgresCluster;
  let url = '';
  let logs: ReturnType<typeof captureLogs>;
  let dump = '';
  before(async () => {
    run = r;
    pgCluster = await startPostgres();
    // The throwaway cluster trusts loopback connections: the password is carried, never checked.
    url = (await databaseFactory(pgCluster)()).url.replace('postgres://postgres@', `postgres://postgres:${PASSWORD}@`);
    r.remember('store URL password', PASSWORD);
    logs = captureLogs(r);
    current = await startLoopFixture({ config: loopConfig({ store: { url } }), logDestination: logs.destination, logLevel: 'trace' });
    try {
      await runLoop(current);
    } finally {
      await current.close();
    }
    const dumped = spawnSync('pg_dump', ['--data-only', url], { encoding: 'utf8', timeout: 120_000, maxBuffer: 256 * 1024 * 1024 });
    assert.equal(dumped.status, 0, dumped.stderr);
    dump = dumped.stdout;
  });
  after(async () => {
    logs?.restore();
    await pgCluster?.stop();
    process.stdout.write(`# secrets searched (PostgreSQL run): ${r.secrets.size}; pg_dump ${dump.length} bytes\n`);
  });

  test('the loop exercised every kind of secret', () => {
    assertCollected(r, ['store URL password']);
    assert.match(dump, /signing_keys/);
  });
  test('no secret in the pg_dump, and no "d": of a private JWK', () => {
    assert.deepEqual(r.leaks('the pg_dump', dump), []);
    assert.doesNotMatch(dump, /"d":"/);
  });
  test('no secret, and not the store password, in any log line or error response', () => {
    assert.deepEqual([...r.logs, ...r.errors].flatMap((line) => r.leaks(line.slice(0, 200), line)), []);
  });
  test('a start against an unreachable PostgreSQL fails without printing the password', async () => {
    const closed = url.replace(/:(\d+)\//, ':1/');
    const config = loadConfig({ flags: { data: join(dir, 'unreachable'), port: '0', logLevel: 'silent' }, env: { MANDATE_STORE_URL: closed } });
    const error = await createApp(config).then(() => null, (e: unknown) => e as Error);
    assert.ok(error, 'the start failed');
    assert.ok(!`${error.message}${error.stack}`.includes(PASSWORD), error.message);
  });
  test('a malformed store.url is reported at its dotted path without the password', () => {
    const error = (() => {
      try {
        loadConfig({ flags: { data: join(dir, 'x') }, env: { MANDATE_STORE_URL: `mysql://u:${PASSWORD}@h/db` } });
        return null;
      } catch (e) {
        return e as Error;
      }
    })();
    assert.ok(error instanceof ConfigError);
    assert.match(error.message, /config error at store\.url/);
    assert.ok(!error.message.includes(PASSWORD), error.message);
  });
});

test('no run left a SQLite file behind in the PostgreSQL data directory', () => {
  assert.equal(existsSync(join(dir, 'unreachable', 'mandate.db')), false);
});
