import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { createRemoteJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify, SignJWT } from 'jose';
import { decodeStatusList, statusBit, STATUS_LIST_MEDIA_TYPE } from '@mandate/sdk/status-list';
import { createSsfReceiver, registerSsfStream, SET_MEDIA_TYPE, SSF_EVENT, type SsfReceiver } from '@mandate/sdk/ssf-receiver';
import { ERROR_CATALOGUE, type ErrorCode } from '../src/core/errors.ts';
import { API, generateDpopKey, OTHER_API, SECRETS, startLoopFixture, startResourceServer, type DpopKeyPair, type LoopFixture, type ResourceServer } from './support/loop-fixture.ts';

/**
 * PROTOCOL §7 revocation for resource servers, end to end on loopback: a real broker (SQLite), a
 * resource server using the SDK verifier in status-list mode and one in push mode (it registers an
 * SSF stream and serves its push endpoint). Revoking a credential or a mandate is refused within
 * the bound; forged SETs are refused; the status list's shape; indexes are not reused before exp.
 */
const TTL_SECONDS = 1;
/** Status-list mode: the list's ttl, plus one fetch and one call. */
const LIST_BOUND_MS = TTL_SECONDS * 1000 + 1000;
/** Push mode: the transmitter polls every 10 ms here. */
const PUSH_BOUND_MS = 1000;

let fx: LoopFixture;
let listRs: ResourceServer;
let pushRs: ResourceServer;
let receiver: SsfReceiver;
let pushEndpoint: Server;
let pushUrl: string;
let streamId: string;
const verifications: Array<string | undefined> = [];

const sha256 = (text: string) => createHash('sha256').update(text).digest('base64url');
const basic = (audience: string) => `Basic ${Buffer.from(`${encodeURIComponent(audience)}:${SECRETS[audience]}`).toString('base64')}`;

before(async () => {
  fx = await startLoopFixture({ config: { revocation: { statusListTtl: `${TTL_SECONDS}s`, push: { pollInterval: '10ms', retryBase: '50ms', maxAttempts: 3, allowLoopback: true, maxStreamsPerAudience: 3 } } } });
  listRs = await startResourceServer(fx, { introspection: undefined, statusList: true });
  receiver = createSsfReceiver({ issuer: fx.issuer, audience: API, jwks: `${fx.issuer}/jwks`, onVerification: (state) => verifications.push(state) });
  pushEndpoint = createServer((req, res) => receiver.nodeHandler(req, res));
  await new Promise<void>((resolve) => pushEndpoint.listen(0, '127.0.0.1', resolve));
  pushUrl = `http://127.0.0.1:${(pushEndpoint.address() as AddressInfo).port}/ssf/events`;
  pushRs = await startResourceServer(fx, { introspection: undefined, revocations: receiver });
  streamId = (await registerSsfStream({ issuer: fx.issuer, clientId: API, clientSecret: SECRETS[API]!, endpointUrl: pushUrl })).stream_id;
});
after(async () => {
  await Promise.all([listRs?.close(), pushRs?.close()]);
  pushEndpoint?.closeAllConnections();
  await new Promise((resolve) => pushEndpoint?.close(resolve));
  await fx?.close();
});

/** A mandate approved by alice; the agent client holds `key`, so raw calls can present its tokens. */
async function approvedToken(key: DpopKeyPair) {
  const client = fx.agent.client({ dpopKey: key.pair });
  const { authReqId } = await client.ask({
    loginHint: fx.alice.id, bindingMessage: 'Read the items', task: { purpose: 'Read the items', audience: API, actions: ['read'], notAfter: new Date(fx.clock.now() + 3_600_000) },
  });
  const mandateId = await fx.pendingMandateOf(fx.agent.agent.id);
  assert.equal((await fx.adminApi('POST', `/admin/v1/mandates/${mandateId}/approve`, fx.secrets.alice)).status, 200);
  const { accessToken } = await client.waitForApproval(authReqId, { interval: 0.05, timeoutMs: 10_000 });
  return { client, mandateId, accessToken };
}

async function call(rs: ResourceServer, key: DpopKeyPair, token: string) {
  const url = `${rs.url}/items`;
  const response = await fetch(url, { headers: { authorization: `DPoP ${token}`, dpop: await fx.proof(key, url, { ath: sha256(token) }, 'GET') } });
  return { status: response.status, challenge: response.headers.get('www-authenticate') ?? '' };
}

/** Calls continuously until refused; returns how long after `since` the first refusal came. */
async function refusedWithin(rs: ResourceServer, key: DpopKeyPair, token: string, since: number, boundMs: number): Promise<number> {
  for (;;) {
    const { status, challenge } = await call(rs, key, token);
    const elapsed = performance.now() - since;
    if (status !== 200) {
      assert.equal(status, 401);
      assert.match(challenge, /error="invalid_token"/);
      return elapsed;
    }
    assert.ok(elapsed <= boundMs, `still accepted ${Math.round(elapsed)} ms after the revocation`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe('Token Status List', () => {
  test('every access token names a random index of a signed statuslist+jwt whose max-age is the bound', async () => {
    const key = await generateDpopKey();
    const { accessToken } = await approvedToken(key);
    const { idx, uri } = (decodeJwt(accessToken).status as { status_list: { idx: number; uri: string } }).status_list;
    assert.ok(Number.isInteger(idx) && idx >= 0);
    assert.match(uri, new RegExp(`^${fx.issuer}/statuslists/\\d+$`));
    const response = await fetch(uri);
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('content-type'), STATUS_LIST_MEDIA_TYPE);
    assert.equal(response.headers.get('cache-control'), `public, max-age=${TTL_SECONDS}`);
    const jwt = await response.text();
    assert.deepEqual(decodeProtectedHeader(jwt).typ, 'statuslist+jwt');
    const { payload } = await jwtVerify(jwt, createRemoteJWKSet(new URL(`${fx.issuer}/jwks`)), { issuer: fx.issuer, subject: uri, typ: 'statuslist+jwt', currentDate: new Date(fx.clock.now()) });
    assert.equal(payload.ttl, TTL_SECONDS);
    const list = payload.status_list as { bits: number; lst: string };
    assert.equal(list.bits, 1);
    assert.equal(decodeStatusList(list.lst).length, 65_536 / 8);
    assert.equal(statusBit(decodeStatusList(list.lst), idx), 0, 'a live token reads 0');
  });

  test('an unknown list is 404 (ERR_STATUS_LIST_NOT_FOUND)', async () => {
    const response = await fetch(`${fx.issuer}/statuslists/999`);
    assert.equal(response.status, ERROR_CATALOGUE.ERR_STATUS_LIST_NOT_FOUND.status);
    assert.equal(((await response.json()) as { error: string }).error, ERROR_CATALOGUE.ERR_STATUS_LIST_NOT_FOUND.oauth);
  });

  test('status-list mode: a revoked credential and a revoked mandate are refused within ttl', async () => {
    const key = await generateDpopKey();
    const first = await approvedToken(key);
    assert.equal((await call(listRs, key, first.accessToken)).status, 200);
    let since = performance.now();
    await first.client.revoke(first.accessToken);
    const credentialMs = await refusedWithin(listRs, key, first.accessToken, since, LIST_BOUND_MS);
    const { idx, uri } = (decodeJwt(first.accessToken).status as { status_list: { idx: number; uri: string } }).status_list;
    const list = decodeJwt(await (await fetch(uri)).text()).status_list as { lst: string };
    assert.equal(statusBit(decodeStatusList(list.lst), idx), 1, 'revoking flips the bit');

    const second = await approvedToken(key);
    assert.equal((await call(listRs, key, second.accessToken)).status, 200);
    since = performance.now();
    assert.equal((await fx.adminApi('POST', `/admin/v1/mandates/${second.mandateId}/revoke`, fx.secrets.alice, { reason: 'done' })).status, 200);
    const mandateMs = await refusedWithin(listRs, key, second.accessToken, since, LIST_BOUND_MS);
    assert.ok(credentialMs <= LIST_BOUND_MS && mandateMs <= LIST_BOUND_MS);
  });
});

describe('SSF push', () => {
  test('the transmitter configuration names every endpoint under the issuer', async () => {
    const config = (await (await fetch(`${fx.issuer}/.well-known/ssf-configuration`)).json()) as Record<string, unknown>;
    assert.equal(config.issuer, fx.issuer);
    assert.deepEqual(config.delivery_methods_supported, ['urn:ietf:rfc:8935']);
    for (const member of ['configuration_endpoint', 'status_endpoint', 'add_subject_endpoint', 'remove_subject_endpoint', 'verification_endpoint', 'jwks_uri'])
      assert.ok(String(config[member]).startsWith(`${fx.issuer}/`), member);
  });

  test('push mode: a revoked credential and a revoked mandate are refused within the push bound', async () => {
    const key = await generateDpopKey();
    const first = await approvedToken(key);
    assert.equal((await call(pushRs, key, first.accessToken)).status, 200);
    let since = performance.now();
    await first.client.revoke(first.accessToken);
    await refusedWithin(pushRs, key, first.accessToken, since, PUSH_BOUND_MS);

    const second = await approvedToken(key);
    assert.equal((await call(pushRs, key, second.accessToken)).status, 200);
    since = performance.now();
    assert.equal((await fx.adminApi('POST', `/admin/v1/mandates/${second.mandateId}/revoke`, fx.secrets.alice, { reason: 'done' })).status, 200);
    await refusedWithin(pushRs, key, second.accessToken, since, PUSH_BOUND_MS);
  });

  test('a forged SET (not signed by the broker) and a body that is not a SET are refused, and nothing is recorded', async () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const set = (claims: Record<string, unknown>) =>
      new SignJWT({ iss: fx.issuer, aud: API, jti: 'set-1', sub_id: { format: 'opaque', id: 'mdt_forged' }, events: { [SSF_EVENT.sessionRevoked]: {} }, ...claims })
        .setProtectedHeader({ alg: 'ES256', typ: 'secevent+jwt', kid: 'not-the-broker' })
        .setIssuedAt()
        .sign(privateKey);
    const push = async (body: string) => {
      const response = await fetch(pushUrl, { method: 'POST', headers: { 'content-type': SET_MEDIA_TYPE }, body });
      return { status: response.status, body: (await response.json()) as { err: string } };
    };
    const forged = await push(await set({}));
    assert.equal(forged.status, 400);
    assert.equal(forged.body.err, 'invalid_key');
    assert.equal(receiver.isRevoked({ jti: 'x', authorization_details: [{ delegation: { id: 'mdt_forged' } }] }), false, 'nothing was recorded');
    const badType = await fetch(pushUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    assert.equal(badType.status, 400);
  });

  const postJson = (path: string, body: unknown, audience = API) =>
    fetch(`${fx.issuer}${path}`, { method: 'POST', headers: { authorization: basic(audience), 'content-type': 'application/json' }, body: JSON.stringify(body) });
  /** RFC 6749 §5.2 JSON with the status and `error` the catalogue maps the code to. */
  const refusedWith = async (response: Response, code: ErrorCode) => {
    assert.equal(response.status, ERROR_CATALOGUE[code].status, code);
    assert.equal(((await response.json()) as { error: string }).error, ERROR_CATALOGUE[code].oauth, code);
  };

  test('the audience reads its stream: push delivery to its endpoint, session-revoked delivered', async () => {
    const read = await fetch(`${fx.issuer}/ssf/streams?stream_id=${streamId}`, { headers: { authorization: basic(API) } });
    assert.equal(read.status, 200);
    const config = (await read.json()) as Record<string, unknown>;
    assert.equal(config.aud, API);
    assert.deepEqual(config.events_delivered, [SSF_EVENT.sessionRevoked]);
    assert.deepEqual(config.delivery, { method: 'urn:ietf:rfc:8935', endpoint_url: pushUrl });
  });

  test('stream management without the audience credential (ERR_SSF_UNAUTHENTICATED)', async () => {
    await refusedWith(await fetch(`${fx.issuer}/ssf/streams`), 'ERR_SSF_UNAUTHENTICATED');
    await refusedWith(await fetch(`${fx.issuer}/ssf/streams`, { headers: { authorization: `Basic ${Buffer.from(`${API}:wrong`).toString('base64')}` } }), 'ERR_SSF_UNAUTHENTICATED');
  });

  test('a stream of another audience (ERR_SSF_STREAM_NOT_FOUND)', async () => {
    await refusedWith(await fetch(`${fx.issuer}/ssf/streams?stream_id=${streamId}`, { headers: { authorization: basic(OTHER_API) } }), 'ERR_SSF_STREAM_NOT_FOUND');
  });

  test('poll delivery or an http endpoint off loopback (ERR_SSF_STREAM_INVALID)', async () => {
    await refusedWith(await postJson('/ssf/streams', { delivery: { method: 'urn:ietf:rfc:8936' } }), 'ERR_SSF_STREAM_INVALID');
    await refusedWith(await postJson('/ssf/streams', { delivery: { method: 'urn:ietf:rfc:8935', endpoint_url: 'http://rs.example/events' } }), 'ERR_SSF_STREAM_INVALID');
  });

  test('an endpoint on an internal address (ERR_SSF_ENDPOINT_FORBIDDEN)', async () => {
    for (const endpoint of ['https://169.254.169.254/latest/meta-data', 'https://10.1.2.3/events', 'https://192.168.0.10/events', 'https://[fd00::1]/events', 'https://[fe80::1]/events', 'https://[::ffff:172.16.0.1]/events', 'https://0.0.0.0/events'])
      await refusedWith(await postJson('/ssf/streams', { delivery: { method: 'urn:ietf:rfc:8935', endpoint_url: endpoint } }), 'ERR_SSF_ENDPOINT_FORBIDDEN');
    const patch = await fetch(`${fx.issuer}/ssf/streams`, {
      method: 'PATCH', headers: { authorization: basic(API), 'content-type': 'application/json' },
      body: JSON.stringify({ stream_id: streamId, delivery: { method: 'urn:ietf:rfc:8935', endpoint_url: 'https://169.254.169.254/' } }),
    });
    await refusedWith(patch, 'ERR_SSF_ENDPOINT_FORBIDDEN');
    const read = (await (await fetch(`${fx.issuer}/ssf/streams?stream_id=${streamId}`, { headers: { authorization: basic(API) } })).json()) as { delivery: { endpoint_url: string } };
    assert.equal(read.delivery.endpoint_url, pushUrl, 'the refused update changed nothing');
  });

  test('more streams than an audience may hold (ERR_SSF_STREAM_LIMIT)', async () => {
    const create = () => postJson('/ssf/streams', { delivery: { method: 'urn:ietf:rfc:8935', endpoint_url: pushUrl } }, OTHER_API);
    const made: string[] = [];
    for (let i = 0; i < 3; i++) {
      const response = await create();
      assert.equal(response.status, 201);
      made.push(((await response.json()) as { stream_id: string }).stream_id);
    }
    await refusedWith(await create(), 'ERR_SSF_STREAM_LIMIT');
    for (const id of made) assert.equal((await fetch(`${fx.issuer}/ssf/streams?stream_id=${id}`, { method: 'DELETE', headers: { authorization: basic(OTHER_API) } })).status, 204);
    assert.equal((await create()).status, 201, 'a deleted stream frees its place');
  });

  test('a subject this transmitter never names (ERR_SSF_SUBJECT_INVALID)', async () => {
    await refusedWith(await postJson('/ssf/subjects/add', { stream_id: streamId, subject: { format: 'email', email: 'a@example.com' } }), 'ERR_SSF_SUBJECT_INVALID');
  });

  test('removing a subject the stream does not hold (ERR_SSF_SUBJECT_NOT_FOUND)', async () => {
    const subject = { format: 'opaque', id: 'mdt_watched' };
    assert.equal((await postJson('/ssf/subjects/add', { stream_id: streamId, subject })).status, 200);
    assert.equal((await postJson('/ssf/subjects/remove', { stream_id: streamId, subject })).status, 204);
    await refusedWith(await postJson('/ssf/subjects/remove', { stream_id: streamId, subject }), 'ERR_SSF_SUBJECT_NOT_FOUND');
  });

  test('status pauses and enables the stream; a verification event arrives with its state', async () => {
    const paused = (await (await postJson('/ssf/status', { stream_id: streamId, status: 'paused' })).json()) as { status: string };
    assert.equal(paused.status, 'paused');
    assert.equal((await postJson('/ssf/status', { stream_id: streamId, status: 'enabled' })).status, 200);
    assert.equal((await postJson('/ssf/verify', { stream_id: streamId, state: 'ping-1' })).status, 204);
    for (let i = 0; i < 200 && !verifications.includes('ping-1'); i++) await new Promise((resolve) => setTimeout(resolve, 10));
    assert.ok(verifications.includes('ping-1'), 'the verification event arrived with its state');
  });

  test('a stream can be patched and deleted by its audience only', async () => {
    const created = (await registerSsfStream({ issuer: fx.issuer, clientId: API, clientSecret: SECRETS[API]!, endpointUrl: `${pushUrl}?second` })).stream_id;
    const send = (method: string, query: string, body?: unknown, audience = API) =>
      fetch(`${fx.issuer}/ssf/streams${query}`, { method, headers: { authorization: basic(audience), ...(body ? { 'content-type': 'application/json' } : {}) }, ...(body ? { body: JSON.stringify(body) } : {}) });
    const patched = await send('PATCH', '', { stream_id: created, description: 'second stream' });
    assert.equal(patched.status, 200);
    assert.equal(((await patched.json()) as { description: string }).description, 'second stream');
    assert.equal((await send('DELETE', `?stream_id=${created}`, undefined, OTHER_API)).status, 404);
    assert.equal((await send('DELETE', `?stream_id=${created}`)).status, 204);
    assert.equal((await send('GET', `?stream_id=${created}`)).status, 404);
  });
});

describe('index allocation', () => {
  test('a held index is not handed out again before its holder is reusable, and is after', async () => {
    const store = fx.app.store;
    const now = fx.clock.now();
    await store.statusLists.ensureList('77', 1024, now);
    assert.equal(await store.statusLists.claim({ listId: '77', idx: 5, jti: 'a', reusableAt: now + 60_000 }, now), true);
    assert.equal(await store.statusLists.claim({ listId: '77', idx: 5, jti: 'b', reusableAt: now + 120_000 }, now + 59_999), false);
    assert.equal(await store.statusLists.claim({ listId: '77', idx: 5, jti: 'b', reusableAt: now + 120_000 }, now + 60_000), true);
    assert.deepEqual(await store.statusLists.slotOf('b'), { listId: '77', idx: 5, jti: 'b', reusableAt: now + 120_000 });
  });
});
