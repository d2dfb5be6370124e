import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Approval, Mandate } from '../../core/mandate.ts';
import type { Store } from '../../ports/store.ts';
import { onBoth, useFixture, type MakeFixture } from './fixture.ts';
import { aHuman, aMandate, anAgent } from './records.ts';

const T = 1_700_000_000_000;

/** Humans usr_1, usr_2 and agents agt_1 (owned by usr_1), agt_2 (owned by usr_2). */
async function seed(store: Store): Promise<void> {
  for (const n of [1, 2]) await store.humans.insert(aHuman(n));
  await store.agents.insert(anAgent(1, ['usr_1']));
  await store.agents.insert(anAgent(2, ['usr_2']));
}

const approval = (by: string, at: number): Approval => ({
  approvedBy: by,
  approvedAt: at,
  method: 'passkey',
  proof: { credentialId: 'cred-1', authenticatorData: 'AAEC', clientDataJSON: 'eyJ9', signature: 'c2ln', nested: { flags: [1, 2] } },
});

/** Every optional field set, so a round trip shows none is lost. */
const aDecidedMandate = (n: number): Mandate =>
  aMandate(n, 'agt_1', 'usr_1', {
    status: 'active',
    task: {
      type: 'agent-task',
      purpose: 'Pay invoice 42 — "urgent" ✓',
      locations: ['https://pay.example.com'],
      actions: ['pay'],
      datatypes: ['invoice', 'iban'],
      identifier: 'inv-42',
      constraints: { notAfter: 1_700_090_000 },
    },
    bindingMessage: 'Code 7731',
    lastPolledAt: T + 5_000,
    interval: 15,
    approval: approval('usr_1', T + 6_000),
    decidedAt: T + 6_000,
    grantHash: `grant-${n}`,
    endedAt: T + 9_000,
    endReason: 'still recorded while active',
  });

/** A sub-grant's mandate of agt_2 below `parent` (PROTOCOL §10), carrying the parent's approval on. */
const aChild = (n: number, parent: string, depth = 1, overrides: Partial<Mandate> = {}): Mandate =>
  aMandate(n, 'agt_2', 'usr_1', {
    status: 'approved',
    approval: { ...approval('usr_1', T + 6_000), delegatedBy: ['agt_1'] },
    hop: { parentId: parent, depth, subGrantHash: `sub-grant-${n}` },
    ...overrides,
  });

export function mandateRepositorySuite(makeFixture: MakeFixture): void {
  describe('MandateRepository', () => {
    const fixture = useFixture(makeFixture);

    test('every field round-trips to the other connection, task and approval JSON included', async () => {
      const { a, b } = fixture();
      await seed(a);
      const full = aDecidedMandate(1);
      const bare = aMandate(2, 'agt_2', 'usr_2', { bindingMessage: null });
      await a.mandates.insert(full);
      await a.mandates.insert(bare);
      assert.deepEqual(await b.mandates.get('mdt_1'), full);
      assert.deepEqual(await b.mandates.get('mdt_2'), bare);
      assert.equal(await b.mandates.get('mdt_404'), null);
    });

    test('lookups by auth_req_id hash and by grant hash', async () => {
      const { a, b } = fixture();
      await seed(a);
      await a.mandates.insert(aDecidedMandate(1));
      await a.mandates.insert(aMandate(2, 'agt_1', 'usr_1'));
      assert.equal((await b.mandates.getByAuthReqIdHash('arh-2'))?.id, 'mdt_2');
      assert.equal((await b.mandates.getByAuthReqIdHash('arh-1'))?.id, 'mdt_1');
      assert.deepEqual(await b.mandates.getByGrantHash('grant-1'), aDecidedMandate(1));
      assert.equal(await b.mandates.getByAuthReqIdHash('arh-404'), null);
      assert.equal(await b.mandates.getByGrantHash('grant-404'), null);
    });

    test('a second mandate with a taken id, auth_req_id hash or grant hash is refused; null grant hashes coexist', async () => {
      const { a, b } = fixture();
      await seed(a);
      await a.mandates.insert(aDecidedMandate(1));
      await a.mandates.insert(aMandate(2, 'agt_1', 'usr_1'));
      await a.mandates.insert(aMandate(3, 'agt_1', 'usr_1'));
      await assert.rejects(b.mandates.insert(aMandate(4, 'agt_1', 'usr_1', { authReqIdHash: 'arh-2' })));
      await assert.rejects(b.mandates.insert(aMandate(5, 'agt_1', 'usr_1', { grantHash: 'grant-1' })));
      await assert.rejects(b.mandates.insert(aMandate(2, 'agt_2', 'usr_2', { authReqIdHash: 'arh-new' })));
      assert.equal(await a.mandates.get('mdt_4'), null);
      assert.equal(await a.mandates.get('mdt_5'), null);
      assert.equal((await a.mandates.get('mdt_2'))?.agentId, 'agt_1');
    });

    test('a mandate for an unknown agent or approver is refused', async () => {
      const { a } = fixture();
      await seed(a);
      await assert.rejects(a.mandates.insert(aMandate(1, 'agt_404', 'usr_1')));
      await assert.rejects(a.mandates.insert(aMandate(2, 'agt_1', 'usr_404')));
      assert.deepEqual(await a.mandates.list({}, 10), []);
    });

    test('list is newest first (id breaks ties), honours every filter and the limit', async () => {
      const { a, b } = fixture();
      await seed(a);
      const rows: Array<[number, string, string, Mandate['status'], number]> = [
        [1, 'agt_1', 'usr_1', 'pending', 100],
        [2, 'agt_1', 'usr_2', 'active', 300],
        [3, 'agt_2', 'usr_2', 'pending', 200],
        [4, 'agt_2', 'usr_1', 'revoked', 300],
        [5, 'agt_1', 'usr_1', 'active', 50],
      ];
      for (const [n, agent, approver, status, createdAt] of rows) {
        await (n % 2 ? a : b).mandates.insert(aMandate(n, agent, approver, { status, createdAt }));
      }
      const ids = (ms: Mandate[]) => ms.map((m) => m.id);
      assert.deepEqual(ids(await b.mandates.list({}, 10)), ['mdt_4', 'mdt_2', 'mdt_3', 'mdt_1', 'mdt_5']);
      assert.deepEqual(ids(await b.mandates.list({}, 2)), ['mdt_4', 'mdt_2']);
      assert.deepEqual(ids(await b.mandates.list({ status: 'pending' }, 10)), ['mdt_3', 'mdt_1']);
      assert.deepEqual(ids(await b.mandates.list({ agentId: 'agt_1' }, 10)), ['mdt_2', 'mdt_1', 'mdt_5']);
      assert.deepEqual(ids(await b.mandates.list({ approverId: 'usr_1' }, 10)), ['mdt_4', 'mdt_1', 'mdt_5']);
      assert.deepEqual(ids(await b.mandates.list({ agentId: 'agt_1', approverId: 'usr_1', status: 'active' }, 10)), ['mdt_5']);
      assert.deepEqual(await b.mandates.list({ agentId: 'agt_404' }, 10), []);
      assert.deepEqual((await a.mandates.list({ status: 'active', agentId: 'agt_1' }, 1))[0], aMandate(2, 'agt_1', 'usr_2', { status: 'active', createdAt: 300 }));
    });

    test('listLive returns pending, approved, active and suspended mandates of the agent or approver', async () => {
      const { a, b } = fixture();
      await seed(a);
      const statuses: Mandate['status'][] = ['pending', 'approved', 'denied', 'active', 'expired', 'exhausted', 'revoked', 'suspended'];
      for (const [i, status] of statuses.entries()) {
        await a.mandates.insert(aMandate(i + 1, 'agt_1', 'usr_1', { status, createdAt: T + i }));
      }
      await a.mandates.insert(aMandate(20, 'agt_2', 'usr_1', { status: 'active', createdAt: T + 20 }));
      await a.mandates.insert(aMandate(21, 'agt_1', 'usr_2', { status: 'approved', createdAt: T + 21 }));
      const ids = (ms: Mandate[]) => ms.map((m) => m.id);
      assert.deepEqual(ids(await b.mandates.listLive({ agentId: 'agt_1' })), ['mdt_21', 'mdt_8', 'mdt_4', 'mdt_2', 'mdt_1']);
      assert.deepEqual(ids(await b.mandates.listLive({ approverId: 'usr_1' })), ['mdt_20', 'mdt_8', 'mdt_4', 'mdt_2', 'mdt_1']);
      assert.deepEqual(ids(await b.mandates.listLive({ agentId: 'agt_2', approverId: 'usr_1' })), ['mdt_20']);
      assert.deepEqual(ids(await b.mandates.listLive({})), ['mdt_21', 'mdt_20', 'mdt_8', 'mdt_4', 'mdt_2', 'mdt_1']);
      assert.deepEqual(await b.mandates.listLive({ agentId: 'agt_404' }), []);
    });

    test('transition applies the patch only from a listed status and leaves other fields alone', async () => {
      const { a, b } = fixture();
      await seed(a);
      const pending = aMandate(1, 'agt_1', 'usr_1', { lastPolledAt: T, interval: 10 });
      await a.mandates.insert(pending);
      const decided = { status: 'approved', approval: approval('usr_1', T + 1), decidedAt: T + 1 } as const;
      assert.equal(await b.mandates.transition('mdt_1', ['pending'], decided), true);
      const approved = { ...pending, ...decided };
      assert.deepEqual(await a.mandates.get('mdt_1'), approved);

      assert.equal(await a.mandates.transition('mdt_1', ['pending', 'active'], { status: 'denied', decidedAt: T + 2 }), false);
      assert.equal(await a.mandates.transition('mdt_1', [], { status: 'revoked' }), false);
      assert.equal(await a.mandates.transition('mdt_404', ['approved'], { status: 'revoked' }), false);
      assert.deepEqual(await b.mandates.get('mdt_1'), approved, 'a refused transition changes nothing');

      assert.equal(await b.mandates.transition('mdt_1', ['approved'], {}), true, 'an empty patch is a status check');
      assert.equal(await b.mandates.transition('mdt_1', ['approved'], { status: 'active', grantHash: 'g-1' }), true);
      assert.equal(await a.mandates.transition('mdt_1', ['active'], { status: 'revoked', endedAt: T + 3, endReason: 'human.disabled', approval: null }), true);
      assert.deepEqual(await a.mandates.get('mdt_1'), { ...approved, status: 'revoked', grantHash: 'g-1', endedAt: T + 3, endReason: 'human.disabled', approval: null });
      assert.equal((await b.mandates.getByGrantHash('g-1'))?.id, 'mdt_1');
    });

    test('a transition to a grant hash another mandate holds fails and changes nothing', async () => {
      const { a, b } = fixture();
      await seed(a);
      await a.mandates.insert(aDecidedMandate(1));
      await a.mandates.insert(aMandate(2, 'agt_1', 'usr_1', { status: 'approved' }));
      await assert.rejects(b.mandates.transition('mdt_2', ['approved'], { status: 'active', grantHash: 'grant-1' }));
      assert.deepEqual(await a.mandates.get('mdt_2'), aMandate(2, 'agt_1', 'usr_1', { status: 'approved' }));
    });

    test('40 concurrent approvals and denials from two connections: exactly one wins, and its patch is stored', async () => {
      const f = fixture();
      await seed(f.a);
      await f.a.mandates.insert(aMandate(1, 'agt_1', 'usr_1'));
      const patchOf = (i: number) => i % 4 < 2
        ? { status: 'approved' as const, approval: approval('usr_1', T + i), decidedAt: T + i }
        : { status: 'denied' as const, decidedAt: T + i, endedAt: T + i, endReason: `denied-${i}` };
      const results = await onBoth(f, 40, (store, i) => store.mandates.transition('mdt_1', ['pending'], patchOf(i)));
      assert.equal(results.filter(Boolean).length, 1);
      const winner = results.indexOf(true);
      assert.deepEqual(await f.b.mandates.get('mdt_1'), { ...aMandate(1, 'agt_1', 'usr_1'), ...patchOf(winner) });
    });

    test('a sub-grant\'s mandate round-trips its hop; children are listed oldest first; lookup by sub-grant hash', async () => {
      const { a, b } = fixture();
      await seed(a);
      await a.mandates.insert(aDecidedMandate(1));
      const older = aChild(2, 'mdt_1', 1, { createdAt: T + 10, task: { ...aMandate(2, 'agt_2', 'usr_1').task, constraints: { notAfter: 1_700_080_000 } } });
      const newer = aChild(3, 'mdt_1', 1, { createdAt: T + 20 });
      const grandchild = aChild(4, 'mdt_3', 2, { createdAt: T + 5 });
      assert.equal(await b.mandates.insertChild(newer, null), true);
      assert.equal(await a.mandates.insertChild(older, null), true);
      assert.equal(await a.mandates.insertChild(grandchild, null), true);
      assert.deepEqual(await b.mandates.get('mdt_3'), newer);
      assert.deepEqual(await b.mandates.getBySubGrantHash('sub-grant-4'), grandchild);
      assert.equal(await b.mandates.getBySubGrantHash('sub-grant-404'), null);
      assert.deepEqual((await b.mandates.listChildren('mdt_1')).map((m) => m.id), ['mdt_2', 'mdt_3']);
      assert.deepEqual((await b.mandates.listChildren('mdt_3')).map((m) => m.id), ['mdt_4']);
      assert.deepEqual(await b.mandates.listChildren('mdt_4'), []);
      assert.equal('hop' in (await b.mandates.get('mdt_1'))!, false, 'a human-approved mandate has no hop');
    });

    test('insertChild carves the child\'s uses out of the parent\'s counter in one transaction', async () => {
      const { a, b } = fixture();
      await seed(a);
      await a.mandates.insert(aDecidedMandate(1));
      await a.counters.create('mdt_1', 5);
      assert.equal(await b.mandates.insertChild(aChild(2, 'mdt_1'), { count: 3, carveFrom: 'mdt_1' }), true);
      assert.deepEqual([await a.counters.remaining('mdt_1'), await a.counters.remaining('mdt_2')], [2, 3]);
      assert.equal(await a.mandates.insertChild(aChild(3, 'mdt_1'), { count: 3, carveFrom: 'mdt_1' }), false, 'too few left');
      assert.deepEqual([await b.counters.remaining('mdt_1'), await b.mandates.get('mdt_3'), await b.counters.remaining('mdt_3')], [2, null, null], 'and nothing stored');
      assert.equal(await a.mandates.insertChild(aChild(4, 'mdt_1'), { count: 7, carveFrom: null }), true, 'a parent without maxUses gives nothing up');
      assert.deepEqual([await b.counters.remaining('mdt_1'), await b.counters.remaining('mdt_4')], [2, 7]);
    });

    test('a child with a taken sub-grant hash or an unknown parent is refused, and its carve undone', async () => {
      const { a, b } = fixture();
      await seed(a);
      await a.mandates.insert(aDecidedMandate(1));
      await a.counters.create('mdt_1', 5);
      await a.mandates.insertChild(aChild(2, 'mdt_1'), null);
      await assert.rejects(b.mandates.insertChild(aChild(3, 'mdt_1', 1, { hop: { parentId: 'mdt_1', depth: 1, subGrantHash: 'sub-grant-2' } }), { count: 2, carveFrom: 'mdt_1' }));
      await assert.rejects(b.mandates.insertChild(aChild(4, 'mdt_404'), null));
      assert.deepEqual([await a.mandates.get('mdt_3'), await a.mandates.get('mdt_4'), await a.counters.remaining('mdt_1')], [null, null, 5]);
    });

    test('30 concurrent carves of 2 uses from 20 on two connections: exactly 10 succeed', async () => {
      const f = fixture();
      await seed(f.a);
      await f.a.mandates.insert(aDecidedMandate(1));
      await f.a.counters.create('mdt_1', 20);
      const results = await onBoth(f, 30, (store, i) => store.mandates.insertChild(aChild(100 + i, 'mdt_1'), { count: 2, carveFrom: 'mdt_1' }));
      assert.equal(results.filter(Boolean).length, 10);
      assert.equal(await f.b.counters.remaining('mdt_1'), 0);
      assert.equal((await f.b.mandates.listChildren('mdt_1')).length, 10);
    });

    test('redeeming pins the child\'s DPoP key and attestation through transition', async () => {
      const { a, b } = fixture();
      await seed(a);
      await a.mandates.insert(aDecidedMandate(1));
      const child = aChild(2, 'mdt_1', 1, { dpopJkt: '' });
      await a.mandates.insertChild(child, null);
      const pinned = { status: 'active', grantHash: 'g-2', dpopJkt: 'jkt-child', attestationId: 'att_child', attestationDigest: 'sha256:child' } as const;
      assert.equal(await b.mandates.transition('mdt_2', ['approved'], pinned), true);
      assert.deepEqual(await a.mandates.get('mdt_2'), { ...child, ...pinned });
    });

    test('recordPoll: the first poll never slows down; a poll inside the interval does and grows it', async () => {
      const { a, b } = fixture();
      await seed(a);
      await a.mandates.insert(aMandate(1, 'agt_1', 'usr_1', { interval: 5 }));
      assert.deepEqual(await a.mandates.recordPoll('mdt_1', T, 5), { slowDown: false, interval: 5 });
      assert.deepEqual(await b.mandates.recordPoll('mdt_1', T + 5_000, 5), { slowDown: false, interval: 5 }, 'exactly one interval later is on time');
      assert.deepEqual(await a.mandates.recordPoll('mdt_1', T + 9_999, 5), { slowDown: true, interval: 10 });
      assert.deepEqual(await b.mandates.recordPoll('mdt_1', T + 19_998, 7), { slowDown: true, interval: 17 }, 'the slowed poll counts as the previous one');
      assert.deepEqual(await a.mandates.recordPoll('mdt_1', T + 36_998, 7), { slowDown: false, interval: 17 });
      const stored = await b.mandates.get('mdt_1');
      assert.deepEqual([stored?.lastPolledAt, stored?.interval, stored?.status], [T + 36_998, 17, 'pending']);
    });

    test('recordPoll on an unknown mandate fails', async () => {
      const { a } = fixture();
      await assert.rejects(a.mandates.recordPoll('mdt_404', T, 5));
    });

    test('30 concurrent polls at one instant from two connections: one on time, each other one slowed by 5 s in turn', async () => {
      const f = fixture();
      await seed(f.a);
      await f.a.mandates.insert(aMandate(1, 'agt_1', 'usr_1', { interval: 5 }));
      const results = await onBoth(f, 30, (store) => store.mandates.recordPoll('mdt_1', T, 5));
      assert.deepEqual(results.filter((r) => !r.slowDown), [{ slowDown: false, interval: 5 }]);
      const grown = results.filter((r) => r.slowDown).map((r) => r.interval).sort((x, y) => x - y);
      assert.deepEqual(grown, Array.from({ length: 29 }, (_, i) => 10 + 5 * i));
      const stored = await f.b.mandates.get('mdt_1');
      assert.deepEqual([stored?.interval, stored?.lastPolledAt], [150, T]);
    });
  });
}
