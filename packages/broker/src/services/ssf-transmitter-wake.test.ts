import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startTestApp, type TestApp } from '../../test/support/app-fixture.ts';
import { SSF_EVENT } from '../core/ssf.ts';
import type { ChangeListener } from '../ports/change-feed.ts';
import type { Store } from '../ports/store.ts';
import { aCredential, aHuman, anAgent } from '../store/conformance/records.ts';
import { cryptoRandom } from '../system.ts';
import { commitRevocation } from './revocation-commit.ts';
import { createSsfTransmitter } from './ssf-transmitter.ts';

/**
 * The transmitter reads the change feed when the store pushes a change (PostgreSQL LISTEN/NOTIFY,
 * here a scripted subscription on the real SQLite store) instead of waiting for its next poll: the
 * poll interval is one minute, so a push within a second came from the wake-up.
 */
const API = 'https://api.example.com';
let t: TestApp;
let listener: ChangeListener | undefined;
let closed = 0;

before(async () => {
  t = await startTestApp({ config: { revocation: { push: { enabled: false, pollInterval: '60s', allowLoopback: true } } } });
  await t.app.store.humans.insert(aHuman(1));
  await t.app.store.agents.insert(anAgent(1, ['usr_1']));
});
after(() => t.close());

/** The real store, but its change feed's subscription is ours to fire. */
function scriptedStore(): Store {
  const changes = { ...t.app.store.changes, subscribe: (l: ChangeListener) => ((listener = l), { close: async () => void closed++ }) };
  return Object.assign(Object.create(Object.getPrototypeOf(t.app.store)), t.app.store, { changes });
}

async function until(condition: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!condition() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
  return condition();
}

test('a pushed change wakes the transmitter at once; stop closes the subscription', async () => {
  const pushes: string[] = [];
  const fetchStub = (async (url: string | URL) => (pushes.push(String(url)), new Response(null, { status: 202 }))) as typeof fetch;
  const store = scriptedStore();
  const transmitter = createSsfTransmitter({ store, keys: t.app.keys, config: t.app.config, clock: { now: () => Date.now() }, random: cryptoRandom }, { fetch: fetchStub, resolveHost: async () => ['203.0.113.10'] });
  await transmitter.start();
  assert.ok(listener, 'the transmitter subscribed to the change feed');
  // The first (immediate) tick runs; after it the next poll is a minute away.
  await new Promise((resolve) => setTimeout(resolve, 100));
  const now = Date.now();
  await store.ssfStreams.insert({ id: 'ssf_wake', audience: API, endpointUrl: 'https://rs.example/events', eventsRequested: [SSF_EVENT.sessionRevoked], status: 'enabled', reason: null, description: null, createdAt: now, updatedAt: now });
  await store.credentials.insert(aCredential('jti-wake', 'agt_1', null, { audience: API }));
  const cursor = await store.changes.publish('token.revoked', 'jti-wake', now);
  assert.equal(pushes.length, 0, 'nothing is pushed before the wake-up');
  await listener!({ cursor, topic: 'token.revoked', key: 'jti-wake', at: now });
  assert.ok(await until(() => pushes.length === 1, 1_000), 'pushed within a second of the notification, not at the next poll');
  assert.deepEqual(pushes, ['https://rs.example/events']);
  await transmitter.stop();
  assert.equal(closed, 1);
});

test('a revocation committed in this process wakes the transmitter through the real store (SQLite: no NOTIFY; the poll is a minute)', async () => {
  const pushes: string[] = [];
  const fetchStub = (async (url: string | URL) => (pushes.push(String(url)), new Response(null, { status: 202 }))) as typeof fetch;
  const store = t.app.store;
  const transmitter = createSsfTransmitter({ store, keys: t.app.keys, config: t.app.config, clock: { now: () => Date.now() }, random: cryptoRandom }, { fetch: fetchStub, resolveHost: async () => ['203.0.113.10'] });
  await transmitter.start();
  try {
    await new Promise((resolve) => setTimeout(resolve, 100));
    const now = Date.now();
    await store.ssfStreams.insert({ id: 'ssf_local', audience: API, endpointUrl: 'https://rs.example/local', eventsRequested: [SSF_EVENT.sessionRevoked], status: 'enabled', reason: null, description: null, createdAt: now, updatedAt: now });
    await store.credentials.insert(aCredential('jti-local', 'agt_1', null, { audience: API }));
    const outcome = await commitRevocation({ store, audit: t.app.audit }, { credentials: { jti: 'jti-local' }, change: { topic: 'token.revoked', key: 'jti-local', at: now } },
      () => [{ type: 'token.revoked', actor: 'agt_1', jti: 'jti-local' }]);
    assert.equal(outcome.applied, true);
    assert.ok(await until(() => pushes.includes('https://rs.example/local'), 1_000), 'pushed within a second of the commit, not at the next poll');
    assert.deepEqual((await t.app.store.audit.byJti('jti-local')).map((e) => e.type), ['token.revoked'], 'audited in the same commit');
  } finally {
    await transmitter.stop();
  }
});
