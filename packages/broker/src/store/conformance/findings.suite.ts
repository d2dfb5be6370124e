import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { FindingRecord } from '../../ports/findings.ts';
import { onBoth, useFixture, type MakeFixture } from './fixture.ts';
import { aHuman, anAgent } from './records.ts';

const T0 = 1_700_000_900_000;

function aFinding(n: number, overrides: Partial<FindingRecord> = {}): FindingRecord {
  return {
    id: `fnd_${n}`,
    kind: 'github_classic_pat',
    service: 'https://api.github.com',
    file: `agents/bot-${n}/.env`,
    line: 3,
    fingerprint: `sha256:${String(n).padStart(43, 'A')}`,
    ownerGuess: `dev${n}@example.com`,
    reason: 'a classic GitHub PAT acts as the human who created it',
    status: 'open',
    createdAt: T0 + n,
    recordedBy: 'usr_1',
    decidedAt: null,
    decidedBy: null,
    dismissReason: null,
    conversion: null,
    ...overrides,
  };
}

/** FindingRepository and LifecycleFlagRepository: dedup, one decision per finding, one raise per flag. */
export function findingsSuite(makeFixture: MakeFixture): void {
  describe('FindingRepository', () => {
    const fixture = useFixture(makeFixture);

    test('a finding recorded on one connection is read whole on the other', async () => {
      const { a, b } = fixture();
      const finding = aFinding(1);
      assert.deepEqual(await a.findings.record(finding), { finding, created: true });
      assert.deepEqual(await b.findings.get('fnd_1'), finding);
      assert.equal(await b.findings.get('fnd_404'), null);
    });

    test('the same fingerprint at the same place is one finding; the first record stays', async () => {
      const { a, b } = fixture();
      await a.findings.record(aFinding(1));
      const again = await b.findings.record(aFinding(1, { id: 'fnd_2', reason: 'reported again', createdAt: T0 + 99 }));
      assert.equal(again.created, false);
      assert.deepEqual(again.finding, aFinding(1));
      assert.equal((await a.findings.list()).length, 1);
    });

    test('reported by both connections at once, exactly one record is created', async () => {
      const f = fixture();
      const results = await onBoth(f, 8, (store, i) => store.findings.record(aFinding(1, { id: `fnd_r${i}` })));
      assert.equal(results.filter((r) => r.created).length, 1);
      assert.equal(new Set(results.map((r) => r.finding.id)).size, 1);
    });

    test('another line or file of the same secret is another finding', async () => {
      const { a } = fixture();
      await a.findings.record(aFinding(1));
      assert.equal((await a.findings.record(aFinding(1, { id: 'fnd_2', line: 4 }))).created, true);
      assert.equal((await a.findings.record(aFinding(1, { id: 'fnd_3', file: 'env:GITHUB_TOKEN', line: 0 }))).created, true);
      assert.deepEqual((await a.findings.list()).map((f) => f.id), ['fnd_1', 'fnd_2', 'fnd_3']);
    });

    test('list filters by status, oldest first', async () => {
      const { a, b } = fixture();
      for (const n of [3, 1, 2]) await a.findings.record(aFinding(n));
      await a.findings.decide('fnd_2', { status: 'dismissed', decidedAt: T0 + 50, decidedBy: 'usr_1', dismissReason: 'test fixture' });
      assert.deepEqual((await b.findings.list('open')).map((f) => f.id), ['fnd_1', 'fnd_3']);
      assert.deepEqual((await b.findings.list('dismissed')).map((f) => f.id), ['fnd_2']);
      assert.deepEqual(await b.findings.list('converted'), []);
      assert.deepEqual((await b.findings.list()).map((f) => f.id), ['fnd_1', 'fnd_2', 'fnd_3']);
    });

    test('a decision applies once, while open, and stores who decided and the proposal', async () => {
      const { a, b } = fixture();
      await a.findings.record(aFinding(1));
      const conversion = { agent: { name: 'bot', owners: ['usr_1'] }, checklist: [{ step: 'revoke' }] };
      assert.equal(await b.findings.decide('fnd_1', { status: 'converted', decidedAt: T0 + 5, decidedBy: 'usr_2', conversion }), true);
      assert.equal(await a.findings.decide('fnd_1', { status: 'dismissed', decidedAt: T0 + 6, decidedBy: 'usr_3', dismissReason: 'late' }), false);
      assert.deepEqual(await a.findings.get('fnd_1'), aFinding(1, { status: 'converted', decidedAt: T0 + 5, decidedBy: 'usr_2', conversion }));
      assert.equal(await a.findings.decide('fnd_404', { status: 'dismissed', decidedAt: T0, decidedBy: 'usr_1' }), false);
    });

    test('concurrent decisions on both connections: exactly one wins', async () => {
      const f = fixture();
      await f.a.findings.record(aFinding(1));
      const won = await onBoth(f, 6, (store, i) =>
        store.findings.decide('fnd_1', { status: i % 2 ? 'dismissed' : 'converted', decidedAt: T0 + i, decidedBy: `usr_${i}` }));
      assert.equal(won.filter(Boolean).length, 1);
    });
  });

  describe('LifecycleFlagRepository', () => {
    const fixture = useFixture(makeFixture);
    const flag = (agentId: string, kind: 'orphan' | 'stale' | 'review_overdue', at = T0) => ({ agentId, flag: kind, raisedAt: at, action: 'notify' });
    const withAgents = async (f: ReturnType<typeof fixture>) => {
      await f.a.humans.insert(aHuman(1));
      await f.a.agents.insert(anAgent(1, ['usr_1']));
      await f.a.agents.insert(anAgent(2, ['usr_1']));
    };

    test('a flag is raised once and listed on the other connection', async () => {
      const f = fixture();
      await withAgents(f);
      assert.equal(await f.a.lifecycleFlags.raise(flag('agt_2', 'stale')), true);
      assert.equal(await f.b.lifecycleFlags.raise(flag('agt_2', 'stale', T0 + 9)), false);
      assert.equal(await f.b.lifecycleFlags.raise(flag('agt_1', 'orphan')), true);
      assert.deepEqual(await f.a.lifecycleFlags.list(), [flag('agt_1', 'orphan'), flag('agt_2', 'stale')]);
    });

    test('raised by both connections at once, exactly one raise reports true', async () => {
      const f = fixture();
      await withAgents(f);
      const raised = await onBoth(f, 8, (store) => store.lifecycleFlags.raise(flag('agt_1', 'review_overdue')));
      assert.equal(raised.filter(Boolean).length, 1);
    });

    test('clear removes exactly that flag and reports whether it was raised', async () => {
      const f = fixture();
      await withAgents(f);
      await f.a.lifecycleFlags.raise(flag('agt_1', 'stale'));
      await f.a.lifecycleFlags.raise(flag('agt_1', 'orphan'));
      assert.equal(await f.b.lifecycleFlags.clear('agt_1', 'stale'), true);
      assert.equal(await f.b.lifecycleFlags.clear('agt_1', 'stale'), false);
      assert.deepEqual((await f.a.lifecycleFlags.list()).map((x) => x.flag), ['orphan']);
    });

    test('a flag on an unknown agent is refused', async () => {
      const f = fixture();
      await assert.rejects(f.a.lifecycleFlags.raise(flag('agt_404', 'stale')));
    });
  });
}
