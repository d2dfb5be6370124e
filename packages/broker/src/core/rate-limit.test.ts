import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { createRateLimiter, retryAfterSeconds } from './rate-limit.ts';

const limiter = (rate: number, burst: number, maxKeys = 1000) => createRateLimiter({ rate, burst, maxKeys });

test('a burst is allowed at once, the next request is refused with the time until one more fits', () => {
  const l = limiter(10, 5);
  for (let i = 0; i < 5; i++) assert.equal(l.take('a', 1000).allowed, true);
  assert.deepEqual(l.take('a', 1000), { allowed: false, retryAfterMs: 100 });
  // A refused request is not counted: it does not push the next allowed time further away.
  assert.deepEqual(l.take('a', 1000), { allowed: false, retryAfterMs: 100 });
  assert.equal(l.take('a', 1100).allowed, true);
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
  assert.equal(l.peek('a', 0).allowed, true);
  assert.equal(l.peek('a', 0).allowed, true);
  l.take('a', 0);
  assert.deepEqual(l.peek('a', 0), { allowed: false, retryAfterMs: 1000 });
});

test('headroom: how many requests would pass now, one after the other; it refills at the rate', () => {
  const l = limiter(10, 5);
  assert.equal(l.headroom('a', 1000), 5, 'a key with no state has its whole burst');
  l.take('a', 1000);
  l.take('a', 1000);
  assert.equal(l.headroom('a', 1000), 3);
  assert.equal(l.headroom('a', 1099), 3);
  assert.equal(l.headroom('a', 1100), 4);
  for (let i = 0; i < 3; i++) l.take('a', 1000);
  assert.equal(l.headroom('a', 1000), 0);
  assert.equal(l.take('a', 1000).allowed, false, 'headroom 0: the next take is refused');
  assert.equal(l.headroom('a', 10_000), 5, 'never above the burst');
  fc.assert(fc.property(fc.array(fc.integer({ min: 0, max: 50 }), { maxLength: 30 }), (gaps) => {
    const k = limiter(7, 4);
    let now = 0;
    for (const gap of gaps) {
      now += gap;
      const room = k.headroom('k', now);
      for (let i = 0; i < room; i++) assert.equal(k.take('k', now).allowed, true);
      assert.equal(k.take('k', now).allowed, false, 'exactly headroom requests pass');
    }
  }));
});

test('reserve counts before the outcome: concurrent requests cannot all pass, refund gives the slot back', () => {
  const l = limiter(1, 3);
  // Three in flight at once take the whole burst; a fourth, still at the same instant, is refused.
  const taken = [0, 1, 2].map(() => l.reserve('a', 0));
  assert.ok(taken.every((d) => d.allowed));
  assert.equal(l.reserve('a', 0).allowed, false);
  // Two turn out not to count (successes): their slots come back, exactly.
  for (const d of taken.slice(1)) l.refund('a', 0, (d as { until: number }).until);
  assert.equal(l.reserve('a', 0).allowed, true);
  assert.equal(l.reserve('a', 0).allowed, true);
  assert.equal(l.reserve('a', 0).allowed, false);
});

test('reserve then refund leaves the key as it was', () => {
  const l = limiter(2, 4);
  l.take('a', 0);
  const before = l.peek('a', 0);
  const reserved = l.reserve('a', 0);
  assert.ok(reserved.allowed);
  l.refund('a', 0, reserved.until);
  assert.deepEqual(l.peek('a', 0), before);
  for (let i = 0; i < 3; i++) assert.equal(l.take('a', 0).allowed, true);
  assert.equal(l.take('a', 0).allowed, false);
});

test('a refused reservation counts: a flood keeps the key refused until it pauses for 1/rate', () => {
  const l = limiter(1, 1);
  assert.equal(l.reserve('a', 0).allowed, true);
  // One request every 500 ms for 10 s: none gets through (take would let one through each second).
  for (let t = 500; t <= 10_000; t += 500) assert.deepEqual(l.reserve('a', t), { allowed: false, retryAfterMs: 1000 });
  assert.equal(l.reserve('a', 11_000).allowed, true);
});

test('a refund for a forgotten key is a no-op (never a credit beyond the burst)', () => {
  const l = limiter(1, 1);
  l.refund('never-seen', 0, 1000);
  assert.equal(l.size(), 0);
  const first = l.reserve('a', 0);
  assert.ok(first.allowed);
  for (let i = 0; i < 3; i++) l.refund('a', 0, first.until);
  assert.equal(l.reserve('a', 0).allowed, true);
  assert.equal(l.reserve('a', 0).allowed, false);
});

test('a refund gives back only what is left of the slot: nothing once time has freed it (never a request beyond the burst)', () => {
  const l = limiter(1, 1);
  const replay = l.reserve('a', 0);
  assert.ok(replay.allowed);
  assert.equal(l.take('a', 1000).allowed, true, 'the slot is free again at 1000 by itself');
  l.refund('a', 1000, replay.until);
  assert.equal(l.take('a', 1000).allowed, false, 'so its refund at 1000 adds nothing');
  const half = l.reserve('a', 2000);
  assert.ok(half.allowed);
  l.refund('a', 2500, half.until);
  assert.equal(l.take('a', 2500).allowed, true, 'refunded half-way: the rest of the slot comes back');
  assert.equal(l.take('a', 2500).allowed, false);
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

test('property: reservations never refunded obey the same bound as take (burst + rate·w in any window)', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 50 }), fc.integer({ min: 1, max: 20 }),
      fc.array(fc.record({ gap: fc.integer({ min: 0, max: 200 }), refund: fc.boolean() }), { minLength: 1, maxLength: 300 }),
      (ratePerSecond, burst, steps) => {
        const l = limiter(ratePerSecond, burst);
        // Kept reservations (failures) at their times; refunded ones (successes) count for nothing.
        const kept: number[] = [];
        let now = 0;
        for (const { gap, refund } of steps) {
          now += gap;
          const decision = l.reserve('k', now);
          if (!decision.allowed) continue;
          if (refund) l.refund('k', now, decision.until);
          else kept.push(now);
        }
        for (let i = 0; i < kept.length; i++)
          for (let j = i; j < kept.length; j++)
            assert.ok(j - i + 1 <= burst + (ratePerSecond * (kept[j]! - kept[i]!)) / 1000 + 1e-9, `${j - i + 1} kept in ${kept[j]! - kept[i]!} ms`);
      },
    ),
    { seed: 4243, numRuns: 300 },
  );
});
