import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Store } from '../../ports/store.ts';
import { useFixture, type MakeFixture } from './fixture.ts';
import { aHuman, aMandate, anAgent } from './records.ts';

/** Two agents of two owners; mandates 1-3 active (approved at 1000 + n), 4 pending. */
async function seed(store: Store): Promise<void> {
  for (const n of [1, 2]) await store.humans.insert(aHuman(n));
  await store.agents.insert(anAgent(1, ['usr_1']));
  await store.agents.insert(anAgent(2, ['usr_2']));
  for (const n of [1, 2, 3]) await store.mandates.insert(aMandate(n, n === 3 ? 'agt_2' : 'agt_1', 'usr_1', { status: 'active', decidedAt: 1000 + n }));
  await store.mandates.insert(aMandate(4, 'agt_1', 'usr_1'));
}

export function reviewRepositorySuite(makeFixture: MakeFixture): void {
  describe('ReviewRepository', () => {
    const fixture = useFixture(makeFixture);

    test('unscheduled: active, human-approved mandates without a review, oldest first, with their approval time', async () => {
      const { a, b } = fixture();
      await seed(a);
      // A sub-agent hop is reviewed with its root, never on its own.
      await a.mandates.insertChild(aMandate(5, 'agt_2', 'usr_1', { status: 'active', decidedAt: 2000, hop: { parentId: 'mdt_1', depth: 1, subGrantHash: 'sg-5' } }), null);
      assert.deepEqual(await b.reviews.unscheduled(10), [
        { mandateId: 'mdt_1', agentId: 'agt_1', since: 1001 },
        { mandateId: 'mdt_2', agentId: 'agt_1', since: 1002 },
        { mandateId: 'mdt_3', agentId: 'agt_2', since: 1003 },
      ]);
      assert.equal(await a.reviews.schedule('mdt_1', 'agt_1', 5001), true);
      assert.deepEqual((await b.reviews.unscheduled(1)).map((u) => u.mandateId), ['mdt_2']);
    });

    test('schedule creates the row once; get reads it back', async () => {
      const { a, b } = fixture();
      await seed(a);
      assert.equal(await a.reviews.schedule('mdt_1', 'agt_1', 5000), true);
      assert.equal(await b.reviews.schedule('mdt_1', 'agt_1', 9999), false);
      assert.deepEqual(await b.reviews.get('mdt_1'), { mandateId: 'mdt_1', agentId: 'agt_1', dueAt: 5000, remindedAt: null, reviewedAt: null, reviewedBy: null, decision: null });
      assert.equal(await a.reviews.get('mdt_2'), null);
    });

    test('list: soonest due first, by due date and agents, only mandates still active', async () => {
      const { a, b } = fixture();
      await seed(a);
      await a.reviews.schedule('mdt_1', 'agt_1', 3000);
      await a.reviews.schedule('mdt_2', 'agt_1', 1000);
      await a.reviews.schedule('mdt_3', 'agt_2', 2000);
      const ids = async (filter: Parameters<Store['reviews']['list']>[0], limit = 10) => (await b.reviews.list(filter, limit)).map((r) => r.mandateId);
      assert.deepEqual(await ids({}), ['mdt_2', 'mdt_3', 'mdt_1']);
      assert.deepEqual(await ids({}, 2), ['mdt_2', 'mdt_3']);
      assert.deepEqual(await ids({ dueBy: 2000 }), ['mdt_2', 'mdt_3']);
      assert.deepEqual(await ids({ agentIds: ['agt_1'] }), ['mdt_2', 'mdt_1']);
      assert.deepEqual(await ids({ agentIds: [] }), []);
      await a.mandates.transition('mdt_2', ['active'], { status: 'revoked' });
      assert.deepEqual(await ids({}), ['mdt_3', 'mdt_1']);
    });

    test('markReminded: once per due period, one winner among concurrent callers', async () => {
      const f = fixture();
      await seed(f.a);
      await f.a.reviews.schedule('mdt_1', 'agt_1', 3000);
      const results = await Promise.all([f.a, f.b, f.a, f.b].map((store, i) => store.reviews.markReminded('mdt_1', 10 + i)));
      assert.equal(results.filter(Boolean).length, 1);
      assert.equal(await f.a.reviews.markReminded('mdt_9', 1), false);
    });

    test('record: the next due date and the decision, clearing the reminder; only against the expected due date', async () => {
      const f = fixture();
      await seed(f.a);
      await f.a.reviews.schedule('mdt_1', 'agt_1', 3000);
      await f.a.reviews.markReminded('mdt_1', 2500);
      const review = (at: number) => ({ at, by: 'usr_1', decision: 'keep' as const, nextDueAt: at + 1000 });
      const results = await Promise.all([f.a, f.b, f.a].map((store, i) => store.reviews.record('mdt_1', 3000, review(4000 + i))));
      assert.equal(results.filter(Boolean).length, 1, 'two reviews of one period: one wins');
      const stored = await f.b.reviews.get('mdt_1');
      assert.equal(stored?.remindedAt, null);
      assert.equal(stored?.decision, 'keep');
      assert.equal(stored?.reviewedBy, 'usr_1');
      assert.equal(stored!.dueAt, stored!.reviewedAt! + 1000);
      assert.equal(await f.a.reviews.record('mdt_1', 3000, review(5000)), false);
      assert.equal(await f.a.reviews.record('mdt_9', 3000, review(5000)), false);
    });
  });
}
