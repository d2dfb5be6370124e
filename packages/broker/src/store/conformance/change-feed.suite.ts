import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Change } from '../../ports/change-feed.ts';
import { onBoth, useFixture, type MakeFixture } from './fixture.ts';
import { revocationCommitSuite } from './revocation-commit.ts';

export function changeFeedSuite(makeFixture: MakeFixture): void {
  describe('ChangeFeed', () => {
    const fixture = useFixture(makeFixture);

    test('an empty feed has cursor 0 and no changes', async () => {
      const { a } = fixture();
      assert.equal(await a.changes.latest(), 0);
      assert.deepEqual(await a.changes.since(0, 10), []);
    });

    test('publish returns the cursor the other connection reads the change under', async () => {
      const { a, b } = fixture();
      const cursor = await a.changes.publish('agent.suspended', 'agt_1', 1234);
      assert.ok(cursor > 0);
      assert.deepEqual(await b.changes.since(0, 10), [{ cursor, topic: 'agent.suspended', key: 'agt_1', at: 1234 }]);
      assert.equal(await b.changes.latest(), cursor);
      assert.deepEqual(await b.changes.since(cursor, 10), []);
    });

    test('interleaved publishes from two connections get distinct, increasing cursors', async () => {
      const f = fixture();
      const cursors = await onBoth(f, 40, (store, i) => store.changes.publish(i % 2 ? 'key.rotated' : 'token.revoked', `k${i}`, 1000 + i));
      const all = await f.b.changes.since(0, 100);
      assert.equal(all.length, 40);
      assertIncreasing(all);
      assert.deepEqual(all.map((c) => c.cursor), [...cursors].sort((x, y) => x - y));
      for (const [i, cursor] of cursors.entries()) {
        assert.deepEqual(all.find((c) => c.cursor === cursor), { cursor, topic: i % 2 ? 'key.rotated' : 'token.revoked', key: `k${i}`, at: 1000 + i });
      }
      assert.equal(await f.a.changes.latest(), Math.max(...cursors));
    });

    test('since pages through the feed in order without gaps or repeats', async () => {
      const { a, b } = fixture();
      for (let i = 0; i < 23; i++) await (i % 3 ? a : b).changes.publish('t', `k${i}`, i);
      const seen: Change[] = [];
      for (let cursor = 0, page: Change[]; (page = await b.changes.since(cursor, 7)).length > 0; cursor = page.at(-1)!.cursor) {
        assert.ok(page.length <= 7);
        seen.push(...page);
      }
      assert.deepEqual(seen.map((c) => c.key), Array.from({ length: 23 }, (_, i) => `k${i}`));
      assertIncreasing(seen);
    });
  });
  revocationCommitSuite(makeFixture);
}

function assertIncreasing(changes: Change[]): void {
  for (let i = 1; i < changes.length; i++) assert.ok(changes[i]!.cursor > changes[i - 1]!.cursor, `cursor ${i} not increasing`);
}
