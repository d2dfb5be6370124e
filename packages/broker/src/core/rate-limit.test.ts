import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { createRateLimiter, retryAfterSeconds } from './rate-limit.ts';

const limiter = (rate: number, burst: number, maxKeys = 1000) => createRateLimiter({ rate, burst, maxKeys });

test('a burst is allowed at once, the next request is refused with the time until one more fits', () => {
  const l = limiter(10, 5);
  for (let i = 0; i < 5; i++) assert.deepEqual(l.take('a', 1000), { allowed: true });
  assert.deepEqual(l.take('a', 1000), { allowed: false, retryAfterMs: 100 });
  // A refused request is not counted: it does not push the next allowed time further away.
  assert.deepEqual(l.take('a', 1000), { allowed: false, retryAfterMs: 100 });
  assert.deepEqual(l.take('a', 1100), { allowed: true });
  assert.equal(l.take('a', 1100).allowed, false);
});

test('the sustained rate: one request per 1/rate seconds once the burst is spent', () => {
  const l = limiter(0.5, 1);
  assert.equal(l.take('a', 0).allowed, true);
  assert.deepEqual(l.take('a', 1999), { allowed: false, retryAfterMs: 1 });
  assert.equal(l.take('a', 2000).allowed, true);
  assert.deepEqual(l.take('a', 2000), { allowed: false, retryAfterMs: 2000 });
});

test('keys are independent: one key spending its budget leaves another untouched', () => {
  const l = limiter(1, 2);
  l.take('a', 0);
  l.take('a', 0);
  assert.equal(l.take('a', 0).allowed, false);
  assert.equal(l.take('b', 0).allowed, true);
});

test('peek answers without counting', () => {
  const l = limiter(1, 1);
  assert.deepEqual(l.peek('a', 0), { allowed: true });
  assert.deepEqual(l.peek('a', 0), { allowed: true });
  l.take('a', 0);
  assert.deepEqual(l.peek('a', 0), { allowed: false, retryAfterMs: 1000 });
});

test('memory is bounded: a flood of 300,000 distinct keys holds at most maxKeys, in linear time', () => {
  const l = limiter(1, 10, 30_000);
  let peak = 0;
  const started = performance.now();
  for (let i = 0; i < 300_000; i++) {
    l.take(`ip-${i}`, 0);
    peak = Math.max(peak, l.size());
  }
  const elapsed = performance.now() - started;
  assert.equal(peak, 30_000);
  // Quadratic eviction (walking the map's deleted entries on every call) took minutes here.
  assert.ok(elapsed < 10_000, `300k distinct keys took ${elapsed.toFixed(0)} ms`);
});

test('keys whose budget has refilled are swept as time passes, without a timer', () => {
  const l = limiter(10, 1);
  for (let i = 0; i < 1000; i++) l.take(`k-${i}`, i);
  assert.equal(l.size(), 1000);
  // Every key's state expired 100 ms after its request; the next call after the sweep period drops them.
  l.take('late', 20_000);
  assert.equal(l.size(), 1);
});

test('a forgotten key starts again with a full burst (eviction only ever errs towards allowing)', () => {
  const l = limiter(1, 1, 100);
  l.take('a', 0);
  assert.equal(l.take('a', 0).allowed, false);
  for (let i = 0; i < 100; i++) l.take(`other-${i}`, 0); // 'a' is now the least recently seen
  assert.ok(l.size() <= 100);
  assert.equal(l.take('a', 0).allowed, true);
});

test('bad settings are refused', () => {
  assert.throws(() => limiter(0, 1), /rate must be a positive number/);
  assert.throws(() => limiter(Number.POSITIVE_INFINITY, 1), /rate must be a positive number/);
  assert.throws(() => limiter(1, 0), /burst must be an integer/);
  assert.throws(() => limiter(1, 1.5), /burst must be an integer/);
  assert.throws(() => limiter(1, 1, 0), /maxKeys must be an integer/);
});

test('Retry-After is whole seconds, at least 1', () => {
  assert.equal(retryAfterSeconds(1), 1);
  assert.equal(retryAfterSeconds(1000), 1);
  assert.equal(retryAfterSeconds(1001), 2);
  assert.equal(retryAfterSeconds(0), 1);
});

test('property: in any window of w ms at most burst + rate·w requests are allowed, and a refusal names a wait after which one is', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 50 }), fc.integer({ min: 1, max: 20 }),
      fc.array(fc.integer({ min: 0, max: 200 }), { minLength: 1, maxLength: 300 }),
      (ratePerSecond, burst, gaps) => {
        const l = limiter(ratePerSecond, burst);
        const allowed: number[] = [];
        let now = 0;
        for (const gap of gaps) {
          now += gap;
          const decision = l.take('k', now);
          if (decision.allowed) allowed.push(now);
          else {
            assert.ok(decision.retryAfterMs > 0);
            assert.equal(l.peek('k', now + decision.retryAfterMs).allowed, true);
          }
        }
        for (let i = 0; i < allowed.length; i++)
          for (let j = i; j < allowed.length; j++) {
            const window = allowed[j]! - allowed[i]!;
            assert.ok(j - i + 1 <= burst + (ratePerSecond * window) / 1000 + 1e-9, `${j - i + 1} allowed in ${window} ms`);
          }
      },
    ),
    { seed: 4242, numRuns: 300 },
  );
});
