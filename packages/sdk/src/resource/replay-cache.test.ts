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
