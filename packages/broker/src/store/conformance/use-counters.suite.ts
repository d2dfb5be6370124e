import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { onBoth, useFixture, type MakeFixture } from './fixture.ts';

export function useCountersSuite(makeFixture: MakeFixture): void {
  describe('UseCounters', () => {
    const fixture = useFixture(makeFixture);

    test('take counts down to zero, then returns null and takes nothing', async () => {
      const { a, b } = fixture();
      await a.counters.create('m1', 2);
      assert.equal(await b.counters.remaining('m1'), 2);
      assert.equal(await b.counters.take('m1'), 1);
      assert.equal(await a.counters.take('m1'), 0);
      assert.equal(await a.counters.take('m1'), null);
      assert.equal(await b.counters.remaining('m1'), 0);
    });

    test('120 concurrent takes of 50 uses across two connections: exactly 50 succeed', async () => {
      const f = fixture();
      await f.a.counters.create('raced', 50);
      const results = await onBoth(f, 120, (store) => store.counters.take('raced'));
      const taken = results.filter((r): r is number => r !== null).sort((x, y) => x - y);
      assert.deepEqual(taken, Array.from({ length: 50 }, (_, i) => i));
      assert.equal(await f.b.counters.remaining('raced'), 0);
    });

    test('release gives a use back, never above the total', async () => {
      const { a, b } = fixture();
      await a.counters.create('r', 2);
      await a.counters.take('r');
      assert.equal(await b.counters.release('r'), true);
      assert.equal(await a.counters.remaining('r'), 2);
      assert.equal(await a.counters.release('r'), false, 'already full');
      assert.equal(await a.counters.release('missing'), false);
    });

    test('an unknown key has no uses and no remaining count', async () => {
      const { a } = fixture();
      assert.equal(await a.counters.take('missing'), null);
      assert.equal(await a.counters.remaining('missing'), null);
    });

    test('a counter created with zero uses cannot be taken', async () => {
      const { a } = fixture();
      await a.counters.create('empty', 0);
      assert.equal(await a.counters.take('empty'), null);
      assert.equal(await a.counters.remaining('empty'), 0);
    });

    test('create rejects a total that is not a non-negative integer', async () => {
      const { a } = fixture();
      for (const total of [-1, 1.5, Number.NaN]) {
        await assert.rejects(a.counters.create(`bad-${total}`, total), { name: 'RangeError' });
      }
      assert.equal(await a.counters.remaining('bad--1'), null);
    });

    test('creating an existing key fails, from either connection, and does not reset it', async () => {
      const { a, b } = fixture();
      await a.counters.create('m2', 3);
      await a.counters.take('m2');
      await assert.rejects(a.counters.create('m2', 3));
      await assert.rejects(b.counters.create('m2', 10));
      assert.equal(await b.counters.remaining('m2'), 2);
    });
  });
}
