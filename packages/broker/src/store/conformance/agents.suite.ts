import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Store } from '../../ports/store.ts';
import { onBoth, useFixture, type MakeFixture } from './fixture.ts';
import { aHuman, anAgent } from './records.ts';

async function addHumans(store: Store, ...ns: number[]): Promise<void> {
  for (const n of ns) await store.humans.insert(aHuman(n));
}

export function agentRepositorySuite(makeFixture: MakeFixture): void {
  describe('AgentRepository', () => {
    const fixture = useFixture(makeFixture);

    test('owners and approvers keep their order; the other connection reads the agent whole', async () => {
      const { a, b } = fixture();
      await addHumans(a, 1, 2, 3);
      const agent = anAgent(1, ['usr_3', 'usr_1'], { approvers: ['usr_2', 'usr_3', 'usr_1'], reviewDueAt: 42 });
      await a.agents.insert(agent);
      assert.deepEqual(await b.agents.get('agt_1'), agent);
      assert.deepEqual(await b.agents.getByName('agent-1'), agent);
      assert.equal(await b.agents.get('agt_404'), null);
      assert.equal(await b.agents.getByName('nobody'), null);
    });

    test('list is ordered by creation time and attaches each agent its own humans', async () => {
      const { a, b } = fixture();
      await addHumans(a, 1, 2);
      await a.agents.insert(anAgent(1, ['usr_1'], { createdAt: 30 }));
      await b.agents.insert(anAgent(2, ['usr_2', 'usr_1'], { createdAt: 10, approvers: ['usr_2'] }));
      await a.agents.insert(anAgent(3, ['usr_2'], { createdAt: 20 }));
      const listed = await b.agents.list();
      assert.deepEqual(listed.map((x) => x.id), ['agt_2', 'agt_3', 'agt_1']);
      assert.deepEqual(listed[0], anAgent(2, ['usr_2', 'usr_1'], { createdAt: 10, approvers: ['usr_2'] }));
      assert.deepEqual(listed.map((x) => x.owners), [['usr_2', 'usr_1'], ['usr_2'], ['usr_1']]);
    });

    test('listByOwner returns agents owned by the human, not those it only approves for', async () => {
      const { a, b } = fixture();
      await addHumans(a, 1, 2, 3);
      await a.agents.insert(anAgent(1, ['usr_1']));
      await a.agents.insert(anAgent(2, ['usr_2', 'usr_1'], { approvers: ['usr_3'] }));
      await a.agents.insert(anAgent(3, ['usr_2'], { approvers: ['usr_1'] }));
      const owned = await b.agents.listByOwner('usr_1');
      assert.deepEqual(owned.map((x) => x.id), ['agt_1', 'agt_2']);
      assert.deepEqual(owned[1], anAgent(2, ['usr_2', 'usr_1'], { approvers: ['usr_3'] }));
      assert.deepEqual(await b.agents.listByOwner('usr_404'), []);
    });

    test('a duplicate name is refused and leaves nothing behind', async () => {
      const { a, b } = fixture();
      await addHumans(a, 1, 2);
      await a.agents.insert(anAgent(1, ['usr_1']));
      await assert.rejects(b.agents.insert(anAgent(2, ['usr_2'], { name: 'agent-1' })));
      assert.equal(await a.agents.get('agt_2'), null);
      assert.deepEqual(await a.agents.listByOwner('usr_2'), []);
    });

    test('an unknown owner is refused and leaves no agent behind', async () => {
      const { a } = fixture();
      await addHumans(a, 1);
      await assert.rejects(a.agents.insert(anAgent(1, ['usr_1', 'usr_404'])));
      assert.equal(await a.agents.get('agt_1'), null);
      assert.deepEqual(await a.agents.list(), []);
    });

    test('setStatus changes the status only from the given ones; unknown ids return false', async () => {
      const { a, b } = fixture();
      await addHumans(a, 1);
      await a.agents.insert(anAgent(1, ['usr_1']));
      assert.equal(await b.agents.setStatus('agt_1', 'suspended', ['active']), true);
      assert.equal((await a.agents.get('agt_1'))?.status, 'suspended');
      assert.equal(await a.agents.setStatus('agt_1', 'suspended', ['active']), false, 'not active any more');
      assert.equal(await a.agents.setStatus('agt_404', 'retired', ['active']), false);
    });

    test('concurrent status changes from one state across two connections: exactly one wins', async () => {
      const f = fixture();
      await addHumans(f.a, 1);
      await f.a.agents.insert(anAgent(1, ['usr_1']));
      const results = await onBoth(f, 20, (store, i) => store.agents.setStatus('agt_1', i % 2 ? 'retired' : 'suspended', ['active']));
      assert.equal(results.filter(Boolean).length, 1);
    });

    test('touch records the last sighting and never moves it backwards', async () => {
      const { a, b } = fixture();
      await addHumans(a, 1);
      await a.agents.insert(anAgent(1, ['usr_1']));
      await b.agents.touch('agt_1', 2000);
      await a.agents.touch('agt_1', 1500);
      assert.equal((await a.agents.get('agt_1'))?.lastSeenAt, 2000);
      await a.agents.touch('agt_1', 2500);
      assert.equal((await b.agents.get('agt_1'))?.lastSeenAt, 2500);
      await a.agents.touch('agt_404', 1);
    });
  });
}
