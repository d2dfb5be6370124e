import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { onBoth, useFixture, type MakeFixture } from './fixture.ts';

const NOW = 1_700_000_000_000;

export function replayCacheSuite(makeFixture: MakeFixture): void {
  describe('ReplayCache', () => {
    const fixture = useFixture(makeFixture);

    test('an id is new once, then a replay on either connection', async () => {
      const { a, b } = fixture();
      assert.equal(await a.replay.checkAndInsert('dpop', 'jti-1', NOW + 60_000, NOW), true);
      assert.equal(await a.replay.checkAndInsert('dpop', 'jti-1', NOW + 60_000, NOW), false);
      assert.equal(await b.replay.checkAndInsert('dpop', 'jti-1', NOW + 90_000, NOW + 1), false);
    });

    test('seen: an id is seen on either connection once recorded, until its expiry; namespaces apart', async () => {
      const { a, b } = fixture();
      assert.equal(await b.replay.seen('client-assertion', 'jti-s', NOW), false);
      assert.equal(await a.replay.checkAndInsert('client-assertion', 'jti-s', NOW + 60_000, NOW), true);
      assert.equal(await b.replay.seen('client-assertion', 'jti-s', NOW + 59_999), true);
      assert.equal(await b.replay.seen('client-assertion', 'jti-s', NOW + 60_000), false, 'expired at its expiry');
      assert.equal(await b.replay.seen('dpop', 'jti-s', NOW), false);
    });

    test('200 concurrent checks of one id across two connections: exactly one wins', async () => {
      const results = await onBoth(fixture(), 200, (store) => store.replay.checkAndInsert('dpop', 'raced', NOW + 60_000, NOW));
      assert.equal(results.filter(Boolean).length, 1);
    });

    test('concurrent checks of distinct ids all win', async () => {
      const results = await onBoth(fixture(), 100, (store, i) => store.replay.checkAndInsert('dpop', `id-${i}`, NOW + 60_000, NOW));
      assert.equal(results.filter(Boolean).length, 100);
    });

    test('an entry counts as unseen from its expiry on, and is then held until the new expiry', async () => {
      const { a, b } = fixture();
      await a.replay.checkAndInsert('nonce', 'n1', NOW + 1000, NOW);
      assert.equal(await b.replay.checkAndInsert('nonce', 'n1', NOW + 5000, NOW + 999), false);
      assert.equal(await b.replay.checkAndInsert('nonce', 'n1', NOW + 5000, NOW + 1000), true);
      assert.equal(await a.replay.checkAndInsert('nonce', 'n1', NOW + 9000, NOW + 4999), false);
      assert.equal(await a.replay.checkAndInsert('nonce', 'n1', NOW + 9000, NOW + 5000), true);
    });

    test('namespaces are independent', async () => {
      const { a, b } = fixture();
      assert.equal(await a.replay.checkAndInsert('dpop', 'same', NOW + 1000, NOW), true);
      assert.equal(await b.replay.checkAndInsert('client_assertion', 'same', NOW + 1000, NOW), true);
      assert.equal(await b.replay.checkAndInsert('dpop', 'same', NOW + 1000, NOW), false);
    });

    test('purgeExpired deletes exactly the entries expired at now', async () => {
      const { a, b } = fixture();
      for (const [id, expiresAt] of [['e1', NOW - 1], ['e2', NOW], ['live', NOW + 1]] as const) {
        await a.replay.checkAndInsert('ns', id, expiresAt, NOW - 10);
      }
      assert.equal(await b.replay.purgeExpired(NOW), 2);
      assert.equal(await a.replay.purgeExpired(NOW), 0);
      assert.equal(await a.replay.checkAndInsert('ns', 'live', NOW + 100, NOW), false);
    });
  });
}
