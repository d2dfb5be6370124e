import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createMemoryReplayCache } from './replay-cache.ts';

test('a key is refused until it expires, then accepted again', () => {
  const cache = createMemoryReplayCache();
  assert.equal(cache.checkAndInsert('a', 100, 10), true);
  assert.equal(cache.checkAndInsert('a', 100, 99), false);
  assert.equal(cache.checkAndInsert('a', 200, 100), true);
});

test('the cache stays within maxEntries, sweeping expired entries first', () => {
  const cache = createMemoryReplayCache({ maxEntries: 2 });
  cache.checkAndInsert('a', 50, 0);
  cache.checkAndInsert('b', 500, 0);
  cache.checkAndInsert('c', 500, 60); // 'a' expired and is swept
  assert.equal(cache.checkAndInsert('b', 500, 61), false);
  cache.checkAndInsert('d', 500, 62); // full of live entries: the oldest ('b') is evicted
  assert.equal(cache.checkAndInsert('c', 500, 63), false);
});

test('a key that expired and came back keeps its new entry: its old place in the order evicts nothing', () => {
  const cache = createMemoryReplayCache({ maxEntries: 3 });
  cache.checkAndInsert('x', 500, 0); // the oldest live entry: sweeps stop at it while there is room
  cache.checkAndInsert('a', 50, 0);
  assert.equal(cache.checkAndInsert('a', 500, 60), true, 'expired: accepted again');
  cache.checkAndInsert('b', 500, 61);
  cache.checkAndInsert('c', 500, 62); // full: evicts 'x', then passes 'a''s first place
  assert.equal(cache.checkAndInsert('a', 500, 63), false, 'a is still recorded');
  assert.equal(cache.checkAndInsert('x', 500, 63), true, 'x was the one evicted');
});

test('at capacity, each insert evicts the oldest live entry, over many times the capacity', () => {
  const cache = createMemoryReplayCache({ maxEntries: 100 });
  for (let i = 0; i < 5000; i++) assert.equal(cache.checkAndInsert(`k${i}`, 10_000, 1), true);
  for (let i = 4900; i < 5000; i++) assert.equal(cache.checkAndInsert(`k${i}`, 10_000, 2), false, `k${i} is among the newest 100`);
  assert.equal(cache.checkAndInsert('k4899', 10_000, 2), true, 'the 101st newest was evicted');
});

test('an expiry that is not a finite number is refused, not recorded as already expired', () => {
  const cache = createMemoryReplayCache();
  for (const expiresAt of [Number.NaN, Number.POSITIVE_INFINITY]) assert.throws(() => cache.checkAndInsert('a', expiresAt, 0), TypeError);
  assert.equal(cache.checkAndInsert('a', 100, 0), true, 'nothing was recorded');
});
