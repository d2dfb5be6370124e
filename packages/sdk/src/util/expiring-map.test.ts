import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ExpiringMap } from './expiring-map.ts';

test('set again, a key becomes the newest: the full map evicts the oldest other entry', () => {
  const map = new ExpiringMap<{ until: number }>(2);
  map.set('a', { until: 100 }, 0);
  map.set('b', { until: 100 }, 0);
  map.set('a', { until: 200 }, 1); // refreshed: its first place in the order no longer counts
  map.set('c', { until: 100 }, 2);
  assert.deepEqual([map.live('a', 3)?.until, map.live('b', 3), map.live('c', 3)?.until], [200, undefined, 100]);
  assert.equal(map.size, 2);
});

test('delete forgets one key; its stale place in the order does not evict the entry set after it', () => {
  const map = new ExpiringMap<{ until: number }>(2);
  map.set('a', { until: 100 }, 0);
  map.set('b', { until: 100 }, 0);
  assert.equal(map.delete('a'), true);
  assert.equal(map.delete('a'), false);
  map.set('a', { until: 100 }, 1); // room again: nothing evicted
  assert.deepEqual([map.live('a', 2)?.until, map.live('b', 2)?.until], [100, 100]);
  map.set('c', { until: 100 }, 2); // full: the oldest live entry (b) goes, not the new a
  assert.deepEqual([map.live('a', 3)?.until, map.live('b', 3), map.live('c', 3)?.until], [100, undefined, 100]);
});

test('expired entries are forgotten from the oldest on the next set; live ones stay', () => {
  const map = new ExpiringMap<{ until: number }>(10);
  map.set('old', { until: 5 }, 0);
  map.set('young', { until: 50 }, 0);
  assert.equal(map.live('old', 5), undefined, 'expired at its until');
  assert.equal(map.get('old')?.until, 5, 'still held until a set sweeps it');
  map.set('new', { until: 50 }, 6);
  assert.equal(map.get('old'), undefined);
  assert.equal(map.size, 2);
});

test('a key set again and again behind a live oldest entry: the order stays bounded, and the entries right', () => {
  const map = new ExpiringMap<{ until: number }>(10);
  map.set('oldest', { until: 1_000_000 }, 0); // live throughout: sweeps stop at it
  const same = { until: 1_000_000 };
  for (let i = 0; i < 20_000; i++) map.set(`k${i % 3}`, i % 2 ? same : { until: 1_000_000 }, i);
  const order = (map as unknown as { order: unknown[]; head: number }).order.length - (map as unknown as { head: number }).head;
  assert.ok(order < 2 * map.size + 1100, `order holds ${order} places for ${map.size} entries`);
  assert.equal(map.size, 4);
  map.set('x', { until: 1_000_000 }, 20_001);
  assert.ok(map.live('oldest', 20_002) && map.live('k0', 20_002) && map.live('k1', 20_002) && map.live('k2', 20_002) && map.live('x', 20_002));
});
