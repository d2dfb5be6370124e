import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose';
import { CLIENT_ASSERTION_TYPE } from '@mandate/sdk/protocol';
import type { Agent } from '../core/model.ts';
import { thumbprint } from './jwk-thumbprint.ts';
import { createSqliteStore, type SqliteStore } from '../store/sqlite/index.ts';
import { createClientAuthenticator } from './client-assertion.ts';
import { createHeldIds } from './single-use.ts';

const ISSUER = 'http://localhost:7420';
const AGENT_ID = 'agt_AAAAAAAAAAAAAAAAAAAAAA';
const dir = mkdtempSync(join(tmpdir(), 'mandate-client-'));
let store: SqliteStore;
let privateKey: CryptoKey;
let jwk: JWK;
let now = 1_700_000_000_000;
let n = 0;

before(async () => {
  store = await createSqliteStore({ path: join(dir, 'c.db') });
  const pair = await generateKeyPair('ES256');
  privateKey = pair.privateKey;
  jwk = await exportJWK(pair.publicKey);
  const publicJwk = { kty: 'EC', crv: 'P-256', x: jwk.x!, y: jwk.y! };
  const owner = 'usr_AAAAAAAAAAAAAAAAAAAAAA';
  await store.humans.insert({ id: owner, name: 'owner', email: null, status: 'active', createdAt: 0, disabledAt: null });
  const agent: Agent = {
    id: AGENT_ID, name: 'a', kind: 'ai_agent', status: 'active', owners: [owner], approvers: [owner],
    policy: 'p', jwk: publicJwk, jwkThumbprint: thumbprint(publicJwk), reviewDueAt: null, createdAt: 0, lastSeenAt: null,
  };
  await store.agents.insert(agent);
});
after(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

const authenticate = (p: Parameters<ReturnType<typeof createClientAuthenticator>>[0]) => authenticator()(p);
let cached: ReturnType<typeof createClientAuthenticator> | undefined;
const authenticator = () => (cached ??= createClientAuthenticator({
  agents: store.agents,
  replay: store.replay,
  clock: { now: () => now },
  issuer: ISSUER,
  skewSeconds: 5,
}));

async function assertion(claims: Record<string, unknown> = {}, header: Record<string, unknown> = {}, key: CryptoKey = privateKey) {
  const iat = Math.floor(now / 1000);
  const payload: Record<string, unknown> = { iss: AGENT_ID, sub: AGENT_ID, aud: ISSUER, iat, exp: iat + 30, jti: `j${++n}`, ...claims };
  for (const k of Object.keys(payload)) if (payload[k] === undefined) delete payload[k];
  return new SignJWT(payload).setProtectedHeader({ alg: 'ES256', ...header }).sign(key);
}

const params = (client_assertion: string, extra: Record<string, string> = {}) => ({ client_assertion_type: CLIENT_ASSERTION_TYPE, client_assertion, ...extra });
const rejects = (p: Promise<unknown>, code: string) => assert.rejects(p, (e: { code?: string; status?: number }) => (e.code === code && e.status === 401) || assert.fail(`expected ${code}, got ${e.code}`));

describe('private_key_jwt', () => {
  test('a valid assertion authenticates the agent', async () => {
    assert.equal((await authenticate(params(await assertion(), { client_id: AGENT_ID }))).id, AGENT_ID);
  });
  test('authentication records when the agent was last seen', async () => {
    await authenticate(params(await assertion()));
    assert.equal((await store.agents.get(AGENT_ID))?.lastSeenAt, now);
  });
  test('typ client-authentication+jwt is accepted', async () => {
    await authenticate(params(await assertion({}, { typ: 'client-authentication+jwt' })));
  });
  test('no client authentication at all', async () => rejects(authenticate({}), 'ERR_CLIENT_AUTH_MISSING'));
  test('wrong assertion type', async () => rejects(authenticate({ client_assertion_type: 'x', client_assertion: await assertion() }), 'ERR_CLIENT_ASSERTION_TYPE'));
  test('not a JWS', async () => rejects(authenticate(params('a.b')), 'ERR_CLIENT_ASSERTION_MALFORMED'));
  test('typ JWT is rejected', async () => rejects(authenticate(params(await assertion({}, { typ: 'JWT' }))), 'ERR_CLIENT_ASSERTION_TYP'));
  test('iss that is not an agent id', async () => rejects(authenticate(params(await assertion({ iss: 'usr_AAAAAAAAAAAAAAAAAAAAAA', sub: 'usr_AAAAAAAAAAAAAAAAAAAAAA' }))), 'ERR_CLIENT_UNKNOWN'));
  test('unknown agent', async () => rejects(authenticate(params(await assertion({ iss: 'agt_BBBBBBBBBBBBBBBBBBBBBB', sub: 'agt_BBBBBBBBBBBBBBBBBBBBBB' }))), 'ERR_CLIENT_UNKNOWN'));
  test('client_id differs from iss', async () => rejects(authenticate(params(await assertion(), { client_id: 'agt_BBBBBBBBBBBBBBBBBBBBBB' })), 'ERR_CLIENT_ID_MISMATCH'));
  test('sub differs from iss', async () => rejects(authenticate(params(await assertion({ sub: 'agt_BBBBBBBBBBBBBBBBBBBBBB' }))), 'ERR_CLIENT_ASSERTION_ISS_SUB'));
  test('signed by another key', async () => rejects(authenticate(params(await assertion({}, {}, (await generateKeyPair('ES256')).privateKey))), 'ERR_CLIENT_ASSERTION_SIGNATURE'));
  test('aud is the token endpoint, not the issuer', async () => rejects(authenticate(params(await assertion({ aud: `${ISSUER}/token` }))), 'ERR_CLIENT_ASSERTION_AUD'));
  test('aud as an array', async () => rejects(authenticate(params(await assertion({ aud: [ISSUER] }))), 'ERR_CLIENT_ASSERTION_AUD'));
  test('lifetime above 60 s', async () => rejects(authenticate(params(await assertion({ exp: Math.floor(now / 1000) + 61 }))), 'ERR_CLIENT_ASSERTION_LIFETIME'));
  test('no exp', async () => rejects(authenticate(params(await assertion({ exp: undefined }))), 'ERR_CLIENT_ASSERTION_LIFETIME'));
  test('expired', async () => rejects(authenticate(params(await assertion({ iat: Math.floor(now / 1000) - 60, exp: Math.floor(now / 1000) - 30 }))), 'ERR_CLIENT_ASSERTION_EXPIRED'));
  test('no jti', async () => rejects(authenticate(params(await assertion({ jti: undefined }))), 'ERR_CLIENT_ASSERTION_JTI'));
  test('a jti with a NUL', async () => rejects(authenticate(params(await assertion({ jti: 'a\u0000b' }))), 'ERR_CLIENT_ASSERTION_JTI'));
  test('a jti with a lone surrogate', async () => rejects(authenticate(params(await assertion({ jti: 'a\ud800' }))), 'ERR_CLIENT_ASSERTION_JTI'));
  test('replayed', async () => {
    const a = await assertion();
    await authenticate(params(a));
    await rejects(authenticate(params(a)), 'ERR_CLIENT_ASSERTION_REPLAY');
  });
  test('with the request holding its ids back: the jti is handed over, not recorded, and recordNow refuses a replay with its error', async () => {
    const a = await assertion();
    const first = createHeldIds(store.replay);
    const second = createHeldIds(store.replay);
    await authenticator()(params(a), first);
    await authenticator()(params(a), second);
    assert.deepEqual(first.pending().map((c) => [c.namespace, c.code]), [['client-assertion', 'ERR_CLIENT_ASSERTION_REPLAY']]);
    await first.recordNow(now);
    await rejects(second.recordNow(now), 'ERR_CLIENT_ASSERTION_REPLAY');
  });
  test('with the request holding its ids back, an assertion already recorded is found by a lookup (records nothing) and refused when recorded', async () => {
    const a = await assertion();
    await authenticate(params(a));
    const held = createHeldIds(store.replay);
    assert.equal((await authenticator()(params(a), held)).id, AGENT_ID);
    const replayed = await held.replayedBefore(now);
    assert.equal(replayed?.code, 'ERR_CLIENT_ASSERTION_REPLAY');
    assert.equal(held.pending().length, 1, 'the lookup recorded nothing');
    await rejects(held.recordNow(now), 'ERR_CLIENT_ASSERTION_REPLAY');
    const fresh = createHeldIds(store.replay);
    await authenticator()(params(await assertion()), fresh);
    assert.equal(await fresh.replayedBefore(now), null);
  });
  test('suspended agent', async () => {
    await store.agents.setStatus(AGENT_ID, 'suspended', ['active']);
    try {
      await rejects(authenticate(params(await assertion())), 'ERR_CLIENT_INACTIVE');
    } finally {
      await store.agents.setStatus(AGENT_ID, 'active', ['suspended']);
    }
  });
});
