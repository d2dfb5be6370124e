import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { generateKeyPair, SignJWT } from 'jose';
import { evidenceAudience, type AgentClient } from '@mandate/sdk';
import { CLIENT_ASSERTION_TYPE, CLIENT_ATTESTATION_POP_TYP, GRANT_TYPE } from '@mandate/sdk/protocol';
import { loadConfig } from '../src/config/load.ts';
import { configIssues } from './support/config-issues.ts';
import { limitClient, limitedRoutes, lookUpFirst } from '../src/http/rate-limit.ts';
import { authenticateClient } from '../src/http/oauth/client-steps.ts';
import { stepsOf } from '../src/http/pipeline.ts';
import { ROUTES } from '../src/http/routes.ts';
import { startTestApp } from './support/app-fixture.ts';
import {
  assertOAuthError, AUTO_API, clientAuth, CODE_DIGEST, generateDpopKey, startLoopFixture,
  type DpopKeyPair, type LoopAgent, type LoopFixture, type WireResponse,
} from './support/loop-fixture.ts';

/**
 * docs/limits.md over real sockets: the per-client limiter (every request of an authenticated
 * client) and the failure budgets per (address, claimed client) and per address (reserved before
 * any work, refunded when the request is no counted failure) on every client-authenticating route. The broker trusts 127.0.0.1 as a proxy here, so each test speaks from its own
 * client address (X-Forwarded-For) and spends no other test's budget. Budgets are tiny and refill
 * in 1000 s, so nothing refills during a test: each 429 is deterministic.
 */

const RETRY_AFTER = '1000'; // rate 0.001/s: the next request fits in 1000 s
let fx: LoopFixture;
before(async () => {
  fx = await startLoopFixture({
    config: {
      server: { trustedProxies: ['127.0.0.1'] },
      limits: { perClient: { rate: 0.001, burst: 3 }, perIpFailures: { rate: 0.001, burst: 1 }, perAddressFailures: { rate: 0.001, burst: 3 } },
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

/** A form whose client authentication fails: signed by a key the broker does not know for this client. */
async function badClientForm(agentId: string, ip: string, claims: Record<string, unknown> = {}): Promise<Record<string, string>> {
  const { privateKey } = await generateKeyPair('ES256');
  const now = Math.floor(fx.clock.now() / 1000);
  const assertion = await new SignJWT({ iss: agentId, sub: agentId, aud: fx.issuer, iat: now, exp: now + 30, jti: `${ip}-${now}-${Math.random()}`, ...claims })
    .setProtectedHeader({ alg: 'ES256' }).sign(privateKey);
  return { grant_type: GRANT_TYPE.ciba, auth_req_id: 'x', client_id: agentId, client_assertion_type: CLIENT_ASSERTION_TYPE, client_assertion: assertion };
}

async function badClientAuth(agentId: string, ip: string, path = '/token'): Promise<WireResponse> {
  return fx.post(path, await badClientForm(agentId, ip), from(ip));
}

const REFUSALS = {
  client: 'too many requests from this client',
  pair: 'too many failed requests for this client from this address',
  address: 'too many failed requests from this address',
};

function assertLimited(response: WireResponse, by: keyof typeof REFUSALS): void {
  const message = new RegExp(`^${REFUSALS[by]}: retry after 1000 s$`);
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

  test('a replayed assertion is counted and given back while counting it leaves half the burst; below that it is looked up first and refused uncounted', async () => {
    const victim = await newActor();
    const id = victim.agent.agent.id;
    const ip = newAddress();
    const limits = fx.app.http.rateLimits!;
    const headroom = () => limits.perClient.headroom(id, limits.now());
    const replay = fx.app.store.replay;
    const realSeen = replay.seen;
    let lookups = 0;
    replay.seen = async (...args) => (lookups++, realSeen.apply(replay, args));
    try {
      const form = { ...(await clientAuth(victim.agent)), grant_type: GRANT_TYPE.ciba, auth_req_id: 'no-such-request' };
      const send = async (proof?: string) => fx.post('/token', form, from(newAddress(), { dpop: proof ?? (await fx.proof(victim.key, '/token')) }));
      assertOAuthError(await send(), 'ERR_CIBA_INVALID_GRANT', /auth_req_id/);
      assert.equal(headroom(), 2);
      limits.perClient.refund(id, limits.now(), Infinity); // one slot back, as time would give it (the budget refills in 1000 s here)
      assert.equal(headroom(), 3);
      // Counting it leaves 2 of 3: counted without a lookup, found when its ids are recorded, given back.
      assertOAuthError(await send(), 'ERR_CLIENT_ASSERTION_REPLAY', 'the client assertion was already used');
      // The same with a bad DPoP proof: the refusal's answer is the replay's, and it is given back too.
      assertOAuthError(await send(await fx.proof(victim.key, 'https://elsewhere.example/token')), 'ERR_CLIENT_ASSERTION_REPLAY', 'the client assertion was already used');
      assert.deepEqual([headroom(), lookups], [3, 0]);
      assertOAuthError(await poll(victim, ip), 'ERR_CIBA_INVALID_GRANT', /auth_req_id/);
      assert.deepEqual([headroom(), lookups], [2, 0]);
      // Counting it would leave 1 of 3: looked up first, refused uncounted.
      assertOAuthError(await send(), 'ERR_CLIENT_ASSERTION_REPLAY', 'the client assertion was already used');
      assert.deepEqual([headroom(), lookups], [2, 1]);
      assertOAuthError(await poll(victim, ip), 'ERR_CIBA_INVALID_GRANT', /auth_req_id/);
      assertOAuthError(await poll(victim, ip), 'ERR_CIBA_INVALID_GRANT', /auth_req_id/);
      assert.equal(lookups, 3, 'each genuine request below the kept half is looked up too');
      assertLimited(await poll(victim, ip), 'client');
    } finally {
      replay.seen = realSeen;
    }
  });

  test('replays can never take the kept half: the requests looked up first, by burst', () => {
    const lookedUp = (burst: number) => Array.from({ length: burst }, (_, i) => burst - i).filter((room) => lookUpFirst(room, Math.ceil(burst / 2)));
    assert.deepEqual(lookedUp(1), [1], 'burst 1: every request');
    assert.deepEqual(lookedUp(2), [1], 'burst 2: the second');
    assert.deepEqual(lookedUp(3), [2, 1]);
    assert.deepEqual(lookedUp(20), [10, 9, 8, 7, 6, 5, 4, 3, 2, 1], 'burst 20: from the 11th, so replays take at most 10');
  });

  test('a used client assertion replayed spends none of its client\'s budget (given back once refused)', async () => {
    const victim = await newActor();
    const ip = newAddress();
    const form = { ...(await clientAuth(victim.agent)), grant_type: GRANT_TYPE.ciba, auth_req_id: 'no-such-request' };
    assertOAuthError(await fx.post('/token', form, from(ip, { dpop: await fx.proof(victim.key, '/token') })), 'ERR_CIBA_INVALID_GRANT', /auth_req_id/);
    for (let i = 0; i < 5; i++) {
      const replayed = await fx.post('/token', form, from(newAddress(), { dpop: await fx.proof(victim.key, '/token') }));
      assertOAuthError(replayed, 'ERR_CLIENT_ASSERTION_REPLAY', 'the client assertion was already used');
    }
    for (let i = 0; i < 2; i++) assertOAuthError(await poll(victim, ip), 'ERR_CIBA_INVALID_GRANT', /auth_req_id/);
    assertLimited(await poll(victim, ip), 'client');
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
  test('bad client authentication spends the (address, client) budget; then even a valid request of that client gets 429 (ERR_RATE_LIMITED)', async () => {
    const ip = newAddress();
    const a = await newActor();
    assertOAuthError(await badClientAuth(a.agent.agent.id, ip), 'ERR_CLIENT_ASSERTION_SIGNATURE', /.+/);
    assertLimited(await poll(a, ip), 'pair');
    // The refused valid request cost the client nothing: from another address it still has 3.
    const other = newAddress();
    for (let i = 0; i < 3; i++) assertOAuthError(await poll(a, other), 'ERR_CIBA_INVALID_GRANT', /auth_req_id/);
  });

  test('a limited address is refused before its body is read, on all three endpoints', async () => {
    const ip = newAddress();
    // Three made-up client ids: three pairs, each within its own budget, but the address's (3) is spent.
    for (let i = 0; i < 3; i++) assertOAuthError(await badClientAuth(`agt_AAAAAAAAAAAAAAAAAAAAA${i}`, ip), 'ERR_CLIENT_UNKNOWN', /.+/);
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
    assertLimited(await poll(a, ip), 'pair');
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
    assertLimited(await fx.post('/token', { grant_type: GRANT_TYPE.clientCredentials, client_id: a.agent.agent.id }, from(ip)), 'pair');
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
    assertLimited(await fx.postJson('/attest', { client_id: a.agent.agent.id }, from(ip)), 'pair');
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

describe('one client failing does not lock out the others at its address; a flood still stops', () => {
  test('behind one address (a proxy, a NAT), a client spending its failure budget leaves other clients untouched', async () => {
    const ip = newAddress();
    const [failing, other] = [await newActor(), await newActor()];
    assertOAuthError(await badClientAuth(failing.agent.agent.id, ip), 'ERR_CLIENT_ASSERTION_SIGNATURE', /.+/);
    assertLimited(await badClientAuth(failing.agent.agent.id, ip), 'pair');
    assertLimited(await poll(failing, ip), 'pair');
    for (let i = 0; i < 3; i++) assertOAuthError(await poll(other, ip), 'ERR_CIBA_INVALID_GRANT', /auth_req_id/);
  });

  test('the claimed client is the assertion\'s iss when the request sends no client_id', async () => {
    const ip = newAddress();
    const [failing, other] = [await newActor(), await newActor()];
    const { client_id: _omitted, ...form } = await badClientForm(failing.agent.agent.id, ip);
    assertOAuthError(await fx.post('/token', form, from(ip)), 'ERR_CLIENT_ASSERTION_SIGNATURE', /.+/);
    assertLimited(await poll(failing, ip), 'pair');
    assertOAuthError(await poll(other, ip), 'ERR_CIBA_INVALID_GRANT', /auth_req_id/);
  });

  test('a flood of made-up client ids from one address spends the address budget: then every client there gets 429', async () => {
    const ip = newAddress();
    const bystander = await newActor();
    for (let i = 0; i < 3; i++) assertOAuthError(await badClientAuth(`agt_BBBBBBBBBBBBBBBBBBBBB${i}`, ip), 'ERR_CLIENT_UNKNOWN', /.+/);
    assertLimited(await badClientAuth('agt_BBBBBBBBBBBBBBBBBBBBB9', ip), 'address');
    assertLimited(await poll(bystander, ip), 'address');
  });
});

describe('reserved before the work: concurrent requests cannot all get through', () => {
  /** Fires all requests at once; counts the statuses and the error codes. */
  async function inParallel(forms: Array<Record<string, string>>, ip: string): Promise<Map<string, number>> {
    const responses = await Promise.all(forms.map((form) => fx.post('/token', form, from(ip))));
    const tally = new Map<string, number>();
    for (const r of responses) {
      const key = `${r.status} ${String(r.body.error_description).split(':')[0]}`;
      tally.set(key, (tally.get(key) ?? 0) + 1);
    }
    return tally;
  }

  test('200 bad client assertions for one client in parallel: only the burst (1) reaches signature verification', async () => {
    const ip = newAddress();
    const victim = await newActor();
    const forms = await Promise.all(Array.from({ length: 200 }, () => badClientForm(victim.agent.agent.id, ip)));
    const tally = await inParallel(forms, ip);
    figures.parallelSameClient = Object.fromEntries(tally);
    const verified = [...tally].filter(([k]) => k.startsWith('401')).reduce((n, [, c]) => n + c, 0);
    assert.equal(verified, 1, JSON.stringify([...tally]));
    assert.equal(tally.get(`429 ${REFUSALS.pair}`), 199, JSON.stringify([...tally]));
  });

  test('200 made-up client ids in parallel from one address: only the address burst (3) gets past the address budget', async () => {
    const ip = newAddress();
    const forms = await Promise.all(Array.from({ length: 200 }, (_, i) => badClientForm(`agt_C${String(i).padStart(21, '0')}`, ip)));
    const tally = await inParallel(forms, ip);
    figures.parallelRandomClients = Object.fromEntries(tally);
    assert.equal(tally.get('401 unknown client'), 3, JSON.stringify([...tally]));
    assert.equal(tally.get(`429 ${REFUSALS.address}`), 197, JSON.stringify([...tally]));
  });

  test('a success gives its reservation back: requests that are no failure never spend the budgets', async () => {
    const ip = newAddress();
    const a = await newActor();
    // More sequential requests than the pair (1) and address (3) budgets, none a counted failure.
    for (let i = 0; i < 3; i++) assertOAuthError(await poll(a, ip), 'ERR_CIBA_INVALID_GRANT', /auth_req_id/);
    for (let i = 0; i < 5; i++) assertOAuthError(await fx.post('/token', { grant_type: 'password' }, from(ip)), 'ERR_GRANT_TYPE_UNSUPPORTED', /.+/);
    // The per-client 429 is no failure either.
    assertLimited(await poll(a, ip), 'client');
    assertOAuthError(await badClientAuth(a.agent.agent.id, ip), 'ERR_CLIENT_ASSERTION_SIGNATURE', /.+/);
  });
});

describe('every route that authenticates a client is limited (derived from the route table)', () => {
  const authenticating = ROUTES.filter((spec) => stepsOf(spec).includes(authenticateClient));

  test('the route table\'s client-authenticating routes include the six agent endpoints', () => {
    const paths = authenticating.map((spec) => `${spec.method} ${spec.path}`).sort();
    for (const path of ['/token', '/attest', '/bc-authorize', '/revoke', '/attest/tpm/enrol', '/attest/tpm/activate'])
      assert.ok(paths.includes(`POST ${path}`), `${path} in ${paths.join(', ')}`);
    assert.deepEqual([...limitedRoutes(ROUTES)].sort(), paths);
  });

  test('each of them counts the per-client budget right after client authentication', () => {
    for (const spec of authenticating) assert.equal(spec.steps[spec.steps.indexOf(authenticateClient) + 1], limitClient, `${spec.method} ${spec.path}`);
  });

  test('from an address whose budget is spent, each of them answers 429 before reading the body; the others do not', async () => {
    const ip = newAddress();
    for (let i = 0; i < 3; i++) assertOAuthError(await badClientAuth(`agt_DDDDDDDDDDDDDDDDDDDDD${i}`, ip), 'ERR_CLIENT_UNKNOWN', /.+/);
    for (const spec of authenticating) {
      const response = spec.body === 'json' ? await fx.postJson(spec.path, {}, from(ip)) : await fx.post(spec.path, {}, from(ip));
      assertLimited(response, 'address');
    }
    for (const path of ['/introspect', '/challenge']) assert.notEqual((await fx.post(path, {}, from(ip))).status, 429, path);
  });
});

describe('memory and switches', () => {
  test('a flood of distinct failing addresses keeps at most limits.maxKeys of them', async () => {
    const t = await startTestApp({ config: { server: { trustedProxies: ['127.0.0.1'] }, limits: { maxKeys: 100, perIpFailures: { rate: 0.001, burst: 1 }, perAddressFailures: { rate: 0.001, burst: 1 } } } });
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

  test('refused requests count: an address that keeps sending stays refused until it pauses for 1/rate (real clock)', async () => {
    const t = await startTestApp({ config: { server: { trustedProxies: ['127.0.0.1'] }, limits: { perAddressFailures: { rate: 1, burst: 1 } } } });
    try {
      await t.app.http.listen({ host: '127.0.0.1', port: 0 });
      const { port } = t.app.http.server.address() as { port: number };
      const send = async (): Promise<number> => {
        const body = new URLSearchParams({ grant_type: GRANT_TYPE.ciba, client_id: `agt_E${Math.random().toString(36).slice(2, 12).padEnd(21, '0')}`, client_assertion_type: CLIENT_ASSERTION_TYPE, client_assertion: 'a.b.c' });
        const response = await fetch(`http://127.0.0.1:${port}/token`, { method: 'POST', headers: from('192.0.2.200', { 'content-type': 'application/x-www-form-urlencoded' }), body });
        await response.arrayBuffer();
        return response.status;
      };
      assert.equal(await send(), 401);
      // 2.5 s of requests 100 ms apart: counting only failures would let one through every second.
      const started = performance.now();
      const during: number[] = [];
      while (performance.now() - started < 2_500) {
        during.push(await send());
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      assert.deepEqual([...new Set(during)], [429], `${during.length} requests`);
      figures.floodHeld = { requests: during.length, refused: during.filter((s) => s === 429).length };
      await new Promise((resolve) => setTimeout(resolve, 1_100));
      assert.equal(await send(), 401);
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

describe('limits config', () => {
  test('the documented defaults: on, 10/s burst 20 per client; failures 1/s burst 30 per (address, client), 10× per address, 100× per IPv6 /48', () => {
    const { limits, server } = loadConfig({ flags: {}, env: {} });
    assert.deepEqual(limits, {
      enabled: true, perClient: { rate: 10, burst: 20 }, perIpFailures: { rate: 1, burst: 30 },
      perAddressFailures: { rate: 10, burst: 300 }, perIpv6NetworkFailures: { rate: 100, burst: 3000 }, maxKeys: 100_000,
    });
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
      [{ limits: { perAddressFailures: { burst: 0 } } }, 'limits.perAddressFailures.burst'],
      [{ limits: { perIpv6NetworkFailures: { rate: 0 } } }, 'limits.perIpv6NetworkFailures.rate'],
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

/** Measured outcomes, printed for docs/limits.md and the figures note. */
const figures: Record<string, unknown> = {};
after(() => console.log(`# rate-limits figures: ${JSON.stringify(figures)}`));
