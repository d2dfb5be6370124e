import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { useFixture, type MakeFixture } from './fixture.ts';
import { aKey } from './records.ts';

export function keyStoreSuite(makeFixture: MakeFixture): void {
  describe('KeyStore', () => {
    const fixture = useFixture(makeFixture);

    test('a key inserted on one connection reads back whole on the other', async () => {
      const { a, b } = fixture();
      const key = aKey(1);
      await a.keys.insert(key);
      assert.deepEqual(await b.keys.get('kid-1'), key);
      assert.equal(await b.keys.get('kid-unknown'), null);
    });

    test('list returns every key oldest first, whichever connection inserted it', async () => {
      const { a, b } = fixture();
      await a.keys.insert(aKey(3));
      await b.keys.insert(aKey(1));
      await a.keys.insert(aKey(2, { retiresAt: 1_800_000_000_000 }));
      assert.deepEqual((await b.keys.list()).map((k) => k.kid), ['kid-1', 'kid-2', 'kid-3']);
      assert.deepEqual((await a.keys.list())[1], aKey(2, { retiresAt: 1_800_000_000_000 }));
    });

    test('a duplicate kid is refused', async () => {
      const { a, b } = fixture();
      await a.keys.insert(aKey(1));
      await assert.rejects(b.keys.insert(aKey(1, { createdAt: 5 })));
      assert.equal((await a.keys.list()).length, 1);
    });

    test('scheduleRetirement marks every other unscheduled key once; the other connection sees it', async () => {
      const { a, b } = fixture();
      for (const n of [1, 2, 3]) await a.keys.insert(aKey(n));
      await a.keys.insert(aKey(4, { retiresAt: 1000 }));
      assert.equal(await b.keys.scheduleRetirement(5000, 'kid-3'), 2);
      assert.deepEqual((await a.keys.list()).map((k) => k.retiresAt), [5000, 5000, null, 1000]);
      assert.equal(await a.keys.scheduleRetirement(9000, 'kid-3'), 0);
      assert.equal((await b.keys.get('kid-1'))?.retiresAt, 5000);
    });

    test('replacePrivateJwk is a compare-and-set: one of two racing replacements wins (keys at rest)', async () => {
      const { a, b } = fixture();
      const key = aKey(1);
      await a.keys.insert(key);
      const sealed = { ...key.privateJwk, d: 'sealed-by-a' };
      assert.equal(await a.keys.replacePrivateJwk('kid-1', key.privateJwk, sealed), true);
      assert.equal(await b.keys.replacePrivateJwk('kid-1', key.privateJwk, { ...key.privateJwk, d: 'sealed-by-b' }), false);
      assert.deepEqual((await b.keys.get('kid-1'))?.privateJwk, sealed);
      assert.equal(await b.keys.replacePrivateJwk('kid-unknown', key.privateJwk, sealed), false);
    });
  });
}
