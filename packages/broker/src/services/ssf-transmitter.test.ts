import assert from 'node:assert/strict';
import { after, before, beforeEach, test } from 'node:test';
import { createLocalJWKSet, decodeJwt, jwtVerify } from 'jose';
import { startTestApp, type TestApp } from '../../test/support/app-fixture.ts';
import { SSF_EVENT } from '../core/ssf.ts';
import type { SsfStream } from '../ports/ssf-streams.ts';
import { aCredential, aHuman, aMandate, anAgent } from '../store/conformance/records.ts';
import { cryptoRandom } from '../system.ts';
import { createSsfTransmitter, MAX_RESPONSE_BYTES, type SsfTransmitter } from './ssf-transmitter.ts';

/**
 * The transmitter on the real SQLite store and key service, with a fake clock and a scripted
 * receiver: which streams get which SETs, the SET itself, retries with backoff, final refusals,
 * paused and disabled streams, subject filters, and where it starts.
 */
const API = 'https://api.example.com';
let now = 1_800_000_000_000;
let t: TestApp;
let transmitter: SsfTransmitter;
let pushes: Array<{ url: string; set: string }>;
let answers: number[];
let streamNo = 0;
/** What the stub resolver answers for a push endpoint's host (default: a public address). */
let hosts: Record<string, string[]> = {};
let responseBody: (() => ReadableStream<Uint8Array>) | null = null;

before(async () => {
  t = await startTestApp({ config: { revocation: { push: { enabled: false, retryBase: '1s', maxAttempts: 3 } } }, overrides: { clock: { now: () => now } } });
  await t.app.store.humans.insert(aHuman(1));
  await t.app.store.agents.insert(anAgent(1, ['usr_1']));
});
after(() => t.close());

beforeEach(async () => {
  pushes = [];
  answers = [];
  hosts = {};
  responseBody = null;
  const fetchStub = (async (url: string | URL, init?: RequestInit) => {
    pushes.push({ url: String(url), set: String(init?.body) });
    const status = answers.shift() ?? 202;
    if (responseBody) return new Response(responseBody(), { status });
    return new Response(status === 400 ? JSON.stringify({ err: 'invalid_key', description: 'no' }) : null, { status });
  }) as typeof fetch;
  const resolveHost = async (host: string) => hosts[host] ?? ['203.0.113.10'];
  transmitter = createSsfTransmitter({ store: t.app.store, keys: t.app.keys, config: t.app.config, clock: { now: () => now }, random: cryptoRandom }, { fetch: fetchStub, resolveHost });
  await transmitter.start();
  await transmitter.stop();
});

async function aStream(overrides: Partial<SsfStream> = {}): Promise<SsfStream> {
  const stream: SsfStream = {
    id: `ssf_${++streamNo}`, audience: API, endpointUrl: `https://rs.example/events/${streamNo}`, eventsRequested: [SSF_EVENT.sessionRevoked],
    status: 'enabled', reason: null, description: null, createdAt: now, updatedAt: now, ...overrides,
  };
  await t.app.store.ssfStreams.insert(stream);
  return stream;
}

async function revokeToken(jti: string): Promise<void> {
  await t.app.store.credentials.insert(aCredential(jti, 'agt_1', null, { audience: API }));
  await t.app.store.changes.publish('token.revoked', jti, now);
}

test('a revoked token is pushed to the streams of its audience only, as a verifiable session-revoked SET', async () => {
  const mine = await aStream();
  await aStream({ audience: 'https://other.example.com' });
  await revokeToken('jti-1');
  await transmitter.tick();
  assert.deepEqual(pushes.map((p) => p.url), [mine.endpointUrl]);
  const jwks = createLocalJWKSet(t.app.keys.publishedJwks() as never);
  const { payload, protectedHeader } = await jwtVerify(pushes[0]!.set, jwks, { issuer: t.app.config.issuer, audience: API, typ: 'secevent+jwt', currentDate: new Date(now) });
  assert.equal(protectedHeader.typ, 'secevent+jwt');
  assert.deepEqual(payload.sub_id, { format: 'jwt_id', iss: t.app.config.issuer, jti: 'jti-1' });
  assert.equal('sub' in payload || 'exp' in payload, false);
  assert.deepEqual(Object.keys(payload.events as object), [SSF_EVENT.sessionRevoked]);
  await transmitter.tick();
  assert.equal(pushes.length, 1, 'a delivered SET is not pushed again');
  await t.app.store.ssfStreams.delete(mine.id);
});

test('a failed push is retried after retryBase, doubling, and stops at maxAttempts', async () => {
  const stream = await aStream();
  answers = [500, 503, 500];
  await revokeToken('jti-2');
  await transmitter.tick();
  now += 999;
  await transmitter.tick();
  assert.equal(pushes.length, 1, 'not before retryBase');
  now += 1;
  await transmitter.tick();
  now += 2000;
  await transmitter.tick();
  assert.equal(pushes.length, 3);
  now += 60_000;
  await transmitter.tick();
  assert.equal(pushes.length, 3, 'given up after maxAttempts (3)');
  assert.deepEqual(new Set(pushes.map((p) => decodeJwt(p.set).jti)).size, 1, 'the same SET each time');
  await t.app.store.ssfStreams.delete(stream.id);
});

test('a 400 with an RFC 8935 err is final', async () => {
  const stream = await aStream();
  answers = [400];
  await revokeToken('jti-3');
  await transmitter.tick();
  now += 60_000;
  await transmitter.tick();
  assert.equal(pushes.length, 1);
  await t.app.store.ssfStreams.delete(stream.id);
});

test('a paused stream holds its events until enabled; a disabled one drops them', async () => {
  const paused = await aStream({ status: 'paused' });
  const disabled = await aStream({ status: 'disabled' });
  await revokeToken('jti-4');
  await transmitter.tick();
  assert.equal(pushes.length, 0);
  await t.app.store.ssfStreams.update(paused.id, { status: 'enabled' });
  await t.app.store.ssfStreams.update(disabled.id, { status: 'enabled' });
  now += 10_000;
  await transmitter.tick();
  assert.deepEqual(pushes.map((p) => p.url), [paused.endpointUrl]);
  await t.app.store.ssfStreams.delete(paused.id);
  await t.app.store.ssfStreams.delete(disabled.id);
});

test('a stream limited to subjects gets only their events', async () => {
  const stream = await aStream();
  await t.app.store.ssfStreams.addSubject(stream.id, 'jti:jti-6');
  await revokeToken('jti-5');
  await revokeToken('jti-6');
  await transmitter.tick();
  assert.deepEqual(pushes.map((p) => (decodeJwt(p.set).sub_id as { jti: string }).jti), ['jti-6']);
  await t.app.store.ssfStreams.delete(stream.id);
});

test('a restarted transmitter keeps the stored cursor and pushes what came after it', async () => {
  await revokeToken('jti-7');
  const stream = await aStream();
  const fresh = createSsfTransmitter({ store: t.app.store, keys: t.app.keys, config: t.app.config, clock: { now: () => now }, random: cryptoRandom });
  const cursor = await t.app.store.ssfStreams.cursor('ssf-transmitter');
  assert.ok(cursor < (await t.app.store.changes.latest()), 'the change is after the stored cursor');
  await fresh.start();
  await fresh.stop();
  await transmitter.tick();
  assert.equal(pushes.length, 1, 'a transmitter with a stored cursor pushes what came after it');
  await t.app.store.ssfStreams.delete(stream.id);
});

test('a revoked or suspended mandate is one opaque event naming the mandate, with txn', async () => {
  const stream = await aStream();
  await t.app.store.mandates.insert(aMandate(1, 'agt_1', 'usr_1', { status: 'revoked' }));
  await t.app.store.mandates.insert(aMandate(2, 'agt_1', 'usr_1', { status: 'suspended' }));
  await t.app.store.changes.publish('mandate.revoked', 'mdt_1', now);
  await t.app.store.changes.publish('mandate.suspended', 'mdt_2', now);
  await transmitter.tick();
  const sets = pushes.map((p) => decodeJwt(p.set));
  assert.deepEqual(sets.map((set) => [set.sub_id, set.txn]).sort(), [[{ format: 'opaque', id: 'mdt_1' }, 'mdt_1'], [{ format: 'opaque', id: 'mdt_2' }, 'mdt_2']]);
  await t.app.store.ssfStreams.delete(stream.id);
});

test('a host that resolves to an internal address at push time is not pushed to (DNS rebinding), and is retried', async () => {
  const stream = await aStream({ endpointUrl: 'https://rebind.example/events' });
  hosts['rebind.example'] = ['169.254.169.254'];
  await revokeToken('jti-8');
  await transmitter.tick();
  assert.equal(pushes.length, 0, 'nothing was sent to the metadata address');
  const held = (await t.app.store.ssfStreams.due(now + 60_000, 10)).filter((entry) => entry.streamId === stream.id);
  assert.deepEqual(held.map((entry) => entry.attempts), [1], 'counted as a failed attempt, kept for a retry');
  hosts['rebind.example'] = ['203.0.113.10'];
  now += 1000;
  await transmitter.tick();
  assert.deepEqual(pushes.map((p) => p.url), [stream.endpointUrl]);
  await t.app.store.ssfStreams.delete(stream.id);
});

test('at most MAX_RESPONSE_BYTES of a receiver answer are read', async () => {
  const stream = await aStream();
  let pulled = 0;
  responseBody = () =>
    new ReadableStream<Uint8Array>({
      pull(controller) {
        if (pulled >= 1024 * 1024) return controller.close();
        pulled += 1024;
        controller.enqueue(new Uint8Array(1024).fill(0x20));
      },
    });
  answers = [400];
  await revokeToken('jti-9');
  await transmitter.tick();
  assert.equal(pushes.length, 1);
  assert.ok(pulled <= MAX_RESPONSE_BYTES + 4 * 1024, `read ${pulled} bytes of a 1 MiB answer`);
  await t.app.store.ssfStreams.delete(stream.id);
});

/** The test app's store, recording each call of the feed, stream and credential ports (`fail`: methods that throw once). */
function countedStore(calls: string[], fail: Set<string> = new Set()) {
  const counted = <T extends object>(name: string, target: T): T =>
    new Proxy(target, {
      get: (o, key) => {
        const value = o[key as keyof T];
        if (typeof value !== 'function') return value;
        return (...args: unknown[]) => {
          const call = `${name}.${String(key)}`;
          calls.push(call);
          if (fail.delete(call)) return Promise.reject(new Error(`${call} failed`));
          return (value as (...a: unknown[]) => unknown).apply(o, args);
        };
      },
    });
  return { ...t.app.store, changes: counted('changes', t.app.store.changes), ssfStreams: counted('ssfStreams', t.app.store.ssfStreams), credentials: counted('credentials', t.app.store.credentials) };
}

test('once it has read the feed, a revocation costs the transmitter four reads and writes before its push', async () => {
  const stream = await aStream();
  const calls: string[] = [];
  const store = countedStore(calls);
  const fetchStub = (async (url: string | URL, init?: RequestInit) => {
    calls.push('push');
    pushes.push({ url: String(url), set: String(init?.body) });
    return new Response(null, { status: 202 });
  }) as typeof fetch;
  const own = createSsfTransmitter({ store, keys: t.app.keys, config: t.app.config, clock: { now: () => now }, random: cryptoRandom }, { fetch: fetchStub, resolveHost: async () => ['203.0.113.10'] });
  await own.tick();
  calls.length = 0;
  await revokeToken('jti-10');
  await own.tick();
  // The shared cursor is moved on beside the push, not before it.
  const beforePush = calls.slice(0, calls.indexOf('push') + 1).filter((call) => call !== 'ssfStreams.advanceCursor');
  assert.deepEqual(beforePush, ['changes.since', 'credentials.get', 'ssfStreams.listForSubjects', 'ssfStreams.enqueue', 'push'],
    'no read of the shared cursor, one read for every stream, no second read of the stream');
  assert.deepEqual(calls.filter((call) => call === 'ssfStreams.cursor' || call === 'ssfStreams.get' || call === 'ssfStreams.subjects'), []);
  assert.deepEqual(pushes.map((p) => p.url), [stream.endpointUrl]);
  await t.app.store.ssfStreams.delete(stream.id);
});

test('after a failed tick the transmitter reads the shared cursor again, and pushes what the failure held back', async () => {
  const stream = await aStream();
  const calls: string[] = [];
  const fail = new Set<string>();
  const own = createSsfTransmitter({ store: countedStore(calls, fail), keys: t.app.keys, config: t.app.config, clock: { now: () => now }, random: cryptoRandom },
    { fetch: (async (url: string | URL, init?: RequestInit) => (pushes.push({ url: String(url), set: String(init?.body) }), new Response(null, { status: 202 }))) as typeof fetch, resolveHost: async () => ['203.0.113.10'] });
  await own.tick();
  await revokeToken('jti-11');
  fail.add('ssfStreams.enqueue');
  await assert.rejects(own.tick(), /ssfStreams.enqueue failed/);
  assert.equal(pushes.length, 0);
  calls.length = 0;
  await own.tick();
  assert.equal(calls[0], 'ssfStreams.cursor', 'the shared cursor is read again');
  assert.deepEqual(pushes.map((p) => p.url), [stream.endpointUrl]);
  await t.app.store.ssfStreams.delete(stream.id);
});
