import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Agent } from '../core/model.ts';
import type { ChangeListener, ChangeSubscription, SubscribeOptions } from '../ports/change-feed.ts';
import type { Store } from '../ports/store.ts';
import { cacheHotReads, createReadCache } from './read-cache.ts';

/** A read that counts its calls and answers from `rows`; `gate` holds the next answer back. */
function source(rows: Map<string, { status: string } | null>) {
  const counted = { calls: 0, gate: null as Promise<void> | null };
  const read = async (key: string) => {
    counted.calls++;
    const value = rows.get(key) ?? null;
    if (counted.gate) await counted.gate;
    return value === null ? null : { ...value };
  };
  return { read, counted };
}

describe('createReadCache', () => {
  const active = (value: { status: string }) => value.status === 'active';

  test('serves a kept value without reading again until its ttl has passed', async () => {
    let now = 1_000;
    const { read, counted } = source(new Map([['a', { status: 'active' }]]));
    const cache = createReadCache(read, { keep: active, now: () => now, ttlMs: 100 });
    assert.deepEqual(await cache.get('a'), { status: 'active' });
    now += 99;
    assert.deepEqual(await cache.get('a'), { status: 'active' });
    assert.equal(counted.calls, 1);
    now += 1;
    await cache.get('a');
    assert.equal(counted.calls, 2, 'read again at its ttl');
    assert.equal(cache.size(), 1);
  });

  test('never keeps null or a value `keep` refuses: each is read every time', async () => {
    const { read, counted } = source(new Map([['gone', null], ['off', { status: 'suspended' }]]));
    const cache = createReadCache(read, { keep: active, now: () => 0 });
    for (let i = 0; i < 2; i++) {
      assert.equal(await cache.get('gone'), null);
      assert.deepEqual(await cache.get('off'), { status: 'suspended' });
    }
    assert.equal(counted.calls, 4);
    assert.equal(cache.size(), 0);
  });

  test('clear() empties it, and a read under way when it ran does not fill it', async () => {
    const rows = new Map([['a', { status: 'active' }]]);
    const { read, counted } = source(rows);
    const cache = createReadCache(read, { keep: active, now: () => 0 });
    await cache.get('a');
    cache.clear();
    assert.equal(cache.size(), 0);
    let open!: () => void;
    counted.gate = new Promise<void>((resolve) => (open = resolve));
    const underWay = cache.get('a');
    cache.clear(); // a change arrived while the row was being read: the row may predate it
    counted.gate = null;
    open();
    assert.deepEqual(await underWay, { status: 'active' }, 'the caller still gets its row');
    assert.equal(cache.size(), 0, 'but it is not kept');
    await cache.get('a');
    assert.equal(cache.size(), 1, 'a read started after the clear is');
  });

  test('forget(key) drops that entry only, and a read under way when it ran does not fill it', async () => {
    const rows = new Map([['a', { status: 'active' }], ['b', { status: 'active' }]]);
    const { read, counted } = source(rows);
    const cache = createReadCache(read, { keep: active, now: () => 0 });
    await cache.get('a');
    await cache.get('b');
    cache.forget('a');
    assert.equal(cache.size(), 1);
    await cache.get('b');
    assert.equal(counted.calls, 2, 'b is still held');
    let open!: () => void;
    counted.gate = new Promise<void>((resolve) => (open = resolve));
    const underWay = cache.get('a');
    cache.forget('a');
    counted.gate = null;
    open();
    await underWay;
    assert.equal(cache.size(), 1, 'the read under way is not kept');
    await cache.get('a');
    assert.equal(cache.size(), 2);
  });

  test('holds at most maxEntries: the oldest goes first', async () => {
    const { read, counted } = source(new Map(['a', 'b', 'c'].map((k) => [k, { status: 'active' }])));
    const cache = createReadCache(read, { keep: active, now: () => 0, maxEntries: 2 });
    for (const key of ['a', 'b', 'c']) await cache.get(key);
    assert.equal(cache.size(), 2);
    await cache.get('b');
    await cache.get('c');
    assert.equal(counted.calls, 3, 'b and c are held');
    await cache.get('a');
    assert.equal(counted.calls, 4, 'a was dropped');
  });

  test('update() changes a held entry and leaves a missing one missing', async () => {
    const { read, counted } = source(new Map([['a', { status: 'active' }], ['b', { status: 'active' }]]));
    const cache = createReadCache(read, { keep: active, now: () => 0 });
    await cache.get('a');
    cache.update('a', (value) => ({ ...value, status: 'active', touched: true }) as { status: string });
    cache.update('b', () => { throw new Error('not called for a missing entry'); });
    assert.deepEqual(await cache.get('a'), { status: 'active', touched: true });
    assert.equal(cache.size(), 1);
    assert.equal(counted.calls, 1);
  });
});

describe('cacheHotReads', () => {
  const agent = (status: Agent['status']): Agent => ({
    id: 'agt_1', name: 'bot', kind: 'ai_agent', status, owners: ['usr_1'], approvers: ['usr_1'], policy: 'default',
    jwk: { kty: 'OKP', crv: 'Ed25519', x: 'x' }, jwkThumbprint: 't', reviewDueAt: null, createdAt: 0, lastSeenAt: 5,
  } as unknown as Agent);

  function fakeStore() {
    const state = { agent: agent('active'), agentReads: 0, mandateReads: 0, touched: [] as number[], listener: null as ChangeListener | null, options: null as SubscribeOptions | null, closed: false };
    const store = {
      agents: {
        get: async () => { state.agentReads++; return { ...state.agent }; },
        touch: async (_id: string, at: number) => void state.touched.push(at),
      },
      mandates: { getByGrantHash: async () => { state.mandateReads++; return { id: 'mdt_1', status: 'active' }; } },
      changes: {
        latest: async () => 42,
        subscribe: (listener: ChangeListener, options: SubscribeOptions): ChangeSubscription => {
          state.listener = listener;
          state.options = options;
          return { close: async () => void (state.closed = true) };
        },
      },
    } as unknown as Store;
    return { store, state };
  }

  test('any change on the feed empties both caches', async () => {
    const { store, state } = fakeStore();
    const hot = await cacheHotReads(store, { clock: { now: () => 0 }, pollIntervalMs: 1_000 });
    await hot.agents.get('agt_1');
    await hot.mandateByGrantHash('hash');
    await hot.agents.get('agt_1');
    await hot.mandateByGrantHash('hash');
    assert.deepEqual([state.agentReads, state.mandateReads], [1, 1]);
    assert.deepEqual(hot.sizes(), { agents: 1, mandates: 1 });
    state.agent = agent('suspended');
    await state.listener!({ cursor: 1, topic: 'agent.suspended', key: 'agt_1', at: 0 });
    assert.deepEqual(hot.sizes(), { agents: 0, mandates: 0 });
    assert.equal((await hot.agents.get('agt_1'))!.status, 'suspended', 'read again after the change');
    assert.equal(hot.sizes().agents, 0, 'and not kept: it is not active');
    await hot.subscription.close();
    assert.equal(state.closed, true);
  });

  test('touch writes through and moves the held agent\'s lastSeenAt, never backwards', async () => {
    const { store, state } = fakeStore();
    const hot = await cacheHotReads(store, { clock: { now: () => 0 }, pollIntervalMs: 1_000 });
    await hot.agents.get('agt_1');
    await hot.agents.touch('agt_1', 70_000);
    await hot.agents.touch('agt_1', 60_000);
    assert.deepEqual(state.touched, [70_000, 60_000]);
    assert.equal((await hot.agents.get('agt_1'))!.lastSeenAt, 70_000);
    assert.equal(state.agentReads, 1);
  });

  test('a store without a feed to subscribe to is refused: nothing would ever empty the caches', async () => {
    const { store } = fakeStore();
    delete (store.changes as { subscribe?: unknown }).subscribe;
    await assert.rejects(cacheHotReads(store, { clock: { now: () => 0 }, pollIntervalMs: 1_000 }), /needs a change feed/);
  });

  test('follows the feed from its newest cursor as read before any cached read; clear() empties both caches', async () => {
    const { store, state } = fakeStore();
    const hot = await cacheHotReads(store, { clock: { now: () => 0 }, pollIntervalMs: 1_000 });
    assert.deepEqual(state.options, { from: 42, pollIntervalMs: 1_000 });
    await hot.agents.get('agt_1');
    await hot.mandateByGrantHash('hash');
    hot.clear();
    assert.deepEqual(hot.sizes(), { agents: 0, mandates: 0 });
  });
});
