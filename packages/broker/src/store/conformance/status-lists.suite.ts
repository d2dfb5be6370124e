import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Store } from '../../ports/store.ts';
import { onBoth, useFixture, type MakeFixture } from './fixture.ts';
import { aCredential, aHuman, aMandate, anAgent } from './records.ts';

const NOW = 1_700_000_000_000;

/** usr_1; agt_1 with mdt_1; list '1' of 1024 statuses. */
async function seed(store: Store): Promise<void> {
  await store.humans.insert(aHuman(1));
  await store.agents.insert(anAgent(1, ['usr_1']));
  await store.mandates.insert(aMandate(1, 'agt_1', 'usr_1', { status: 'active' }));
  await store.statusLists.ensureList('1', 1024, NOW);
}

const slot = (idx: number, jti: string, reusableAt = NOW + 60_000) => ({ listId: '1', idx, jti, reusableAt });

export function statusListRepositorySuite(makeFixture: MakeFixture): void {
  describe('StatusListRepository', () => {
    const fixture = useFixture(makeFixture);

    test('ensureList is idempotent on both connections and lists keep their size', async () => {
      const { a, b } = fixture();
      await seed(a);
      await b.statusLists.ensureList('1', 4096, NOW + 1);
      await b.statusLists.ensureList('2', 2048, NOW + 2);
      assert.deepEqual(await a.statusLists.lists(), [{ id: '1', size: 1024 }, { id: '2', size: 2048 }]);
    });

    test('of concurrent claims on one index from two connections exactly one wins', async () => {
      const f = fixture();
      await seed(f.a);
      const wins = await onBoth(f, 20, (store, i) => store.statusLists.claim(slot(7, `jti-${i}`), NOW));
      assert.equal(wins.filter(Boolean).length, 1);
      const winner = wins.findIndex(Boolean);
      assert.deepEqual(await f.b.statusLists.slotOf(`jti-${winner}`), slot(7, `jti-${winner}`));
    });

    test('a held index is refused until reusableAt, then taken over', async () => {
      const { a, b } = fixture();
      await seed(a);
      assert.equal(await a.statusLists.claim(slot(3, 'old'), NOW), true);
      assert.equal(await b.statusLists.claim(slot(3, 'new', NOW + 120_000), NOW + 59_999), false);
      assert.equal(await b.statusLists.claim(slot(3, 'new', NOW + 120_000), NOW + 60_000), true);
      assert.deepEqual(await a.statusLists.slotOf('new'), slot(3, 'new', NOW + 120_000));
      assert.equal(await a.statusLists.slotOf('unknown'), null);
    });

    test('revoked indexes follow the holders\' credentials and skip reusable slots', async () => {
      const { a, b } = fixture();
      await seed(a);
      for (const [idx, jti] of [[1, 'live'], [2, 'revoked'], [3, 'gone']] as const) {
        await a.statusLists.claim(slot(idx, jti, jti === 'gone' ? NOW + 10 : NOW + 60_000), NOW);
        await a.credentials.insert(aCredential(jti, 'agt_1', 'mdt_1'));
      }
      await a.statusLists.claim(slot(4, 'no-credential'), NOW);
      assert.deepEqual(await b.statusLists.revokedIndexes('1', NOW + 20), []);
      await a.credentials.revoke('revoked', NOW);
      await a.credentials.revoke('gone', NOW);
      assert.deepEqual(await b.statusLists.revokedIndexes('1', NOW + 20), [2]);
      await a.credentials.revokeByMandate('mdt_1', NOW);
      assert.deepEqual(await b.statusLists.revokedIndexes('1', NOW + 20), [1, 2]);
      assert.deepEqual(await b.statusLists.revokedIndexes('2', NOW + 20), []);
    });

    test('holders of an agent are its live slots with their credentials', async () => {
      const { a, b } = fixture();
      await seed(a);
      await a.statusLists.claim(slot(1, 'x'), NOW);
      await a.credentials.insert(aCredential('x', 'agt_1', 'mdt_1'));
      await a.statusLists.claim(slot(2, 'y', NOW + 5), NOW);
      await a.credentials.insert(aCredential('y', 'agt_1', null));
      await a.credentials.revoke('x', NOW);
      const audience = (await a.credentials.get('x'))!.audience;
      assert.deepEqual(await b.statusLists.holdersOfAgent('agt_1', NOW + 10), [{ jti: 'x', audience, mandateId: 'mdt_1', revoked: true }]);
      assert.deepEqual(await b.statusLists.holdersOfAgent('agt_404', NOW), []);
    });
  });
}
