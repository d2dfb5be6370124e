import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { POOLED_MAX_BYTES, pooledRandom } from './system.ts';

test('pooled randomness: small requests are cut from 4 KiB draws, each byte handed out once, across refills', () => {
  const draws: Buffer[] = [];
  const random = pooledRandom((n) => {
    const bytes = randomBytes(n);
    draws.push(bytes);
    return bytes;
  });
  const handed: Buffer[] = [];
  for (let i = 0; i < 1000; i++) {
    const value = Buffer.from(random.base64url(12), 'base64url');
    assert.equal(value.length, 12);
    handed.push(value);
  }
  // 1,000 × 12 bytes: 341 fit a 4,096-byte draw, so three draws; the 4 bytes left of each are skipped.
  assert.equal(draws.length, 3);
  assert.deepEqual(Buffer.concat(handed.slice(0, 341)), draws[0]!.subarray(0, 341 * 12));
  assert.deepEqual(Buffer.concat(handed.slice(341, 682)), draws[1]!.subarray(0, 341 * 12));
  assert.equal(new Set(handed.map((b) => b.toString('hex'))).size, handed.length);
});

test('pooled randomness: a request over the pooled size is its own draw (secrets never wait in the pool)', () => {
  const sizes: number[] = [];
  const random = pooledRandom((n) => {
    sizes.push(n);
    return randomBytes(n);
  });
  assert.equal(Buffer.from(random.base64url(32), 'base64url').length, 32);
  assert.equal(Buffer.from(random.base64url(POOLED_MAX_BYTES + 1), 'base64url').length, POOLED_MAX_BYTES + 1);
  assert.deepEqual(sizes, [32, POOLED_MAX_BYTES + 1]);
  random.base64url(POOLED_MAX_BYTES);
  assert.deepEqual(sizes, [32, POOLED_MAX_BYTES + 1, 4096]);
});
