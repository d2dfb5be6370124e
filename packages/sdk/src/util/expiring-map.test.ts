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
