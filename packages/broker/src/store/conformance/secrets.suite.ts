import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { onBoth, useFixture, type MakeFixture } from './fixture.ts';

export function secretsSuite(makeFixture: MakeFixture): void {
  describe('SecretStore', () => {
    const fixture = useFixture(makeFixture);

    test('the first value wins and is returned to every later caller', async () => {
      const { a, b } = fixture();
      assert.equal(await a.secrets.getOrCreate('nonce', 'first', 1), 'first');
      assert.equal(await b.secrets.getOrCreate('nonce', 'second', 2), 'first');
    });

    test('concurrent creation across two connections agrees on one value', async () => {
      const f = fixture();
      const values = await onBoth(f, 20, (store, i) => store.secrets.getOrCreate('raced', `v${i}`, i));
      assert.equal(new Set(values).size, 1);
    });

    test('names are independent', async () => {
      const { a } = fixture();
      assert.equal(await a.secrets.getOrCreate('x', 'one', 1), 'one');
      assert.equal(await a.secrets.getOrCreate('y', 'two', 1), 'two');
    });

    test('list returns every secret by name; replace is a compare-and-set (keys at rest)', async () => {
      const { a, b } = fixture();
      await a.secrets.getOrCreate('y', 'two', 1);
      await a.secrets.getOrCreate('x', 'one', 1);
      assert.deepEqual(await b.secrets.list(), [{ name: 'x', value: 'one' }, { name: 'y', value: 'two' }]);
      assert.equal(await b.secrets.replace('x', 'one', 'sealed'), true);
      assert.equal(await a.secrets.replace('x', 'one', 'other'), false);
      assert.equal(await a.secrets.getOrCreate('x', 'fresh', 2), 'sealed');
      assert.equal(await a.secrets.replace('z', 'one', 'sealed'), false);
    });
  });
}
