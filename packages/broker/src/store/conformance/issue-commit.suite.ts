import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { AuditEventInput } from '../../core/audit-chain.ts';
import { checkChain } from '../../core/audit-chain.ts';
import type { AuditAppend } from '../../ports/audit-sink.ts';
import type { IssueWrite } from '../../ports/mandates.ts';
import type { ReplayClaim } from '../../ports/replay-cache.ts';
import type { Store } from '../../ports/store.ts';
import { nodeChainHashing } from '../chain-hashing.ts';
import { onBoth, useFixture, type MakeFixture, type StoreFixture } from './fixture.ts';
import { aCredential, aHuman, aMandate, anAgent } from './records.ts';

const AT = 1_700_000_900_000;
const seals: string[] = [];
const append: AuditAppend = { chain: 'main', time: AT, seal: (head) => (seals.push(`sealed:${head.seq}`), `sealed:${head.seq}`) };
/** A single-use id as the DPoP verifier hands it to the commit. */
const id = (value: string, expiresAt = AT + 60_000): ReplayClaim => ({ namespace: 'dpop', id: value, expiresAt, code: 'ERR_DPOP_REPLAY', message: 'jti was already used' });
/** True when the id was still free (and records it now). */
const stillFree = (store: Store, value: string) => store.replay.checkAndInsert('dpop', value, AT + 60_000, AT);
const issued = (jti: string): AuditEventInput[] => [{ type: 'token.issued', actor: 'agt_1', approver: 'usr_1', mandateId: 'mdt_1', jti }];
const write = (jti: string, idx: number, overrides: Partial<IssueWrite> = {}): IssueWrite => ({
  credential: aCredential(jti, 'agt_1', 'mdt_1', { issuedAt: AT, expiresAt: AT + 60_000 }),
  live: ['active', 'exhausted'],
  approverId: 'usr_1',
  slot: { listId: '1', idx, jti, reusableAt: AT + 120_000 },
  singleUse: [],
  now: AT,
  ...overrides,
});

async function seed(store: Store): Promise<void> {
  await store.humans.insert(aHuman(1));
  await store.agents.insert(anAgent(1, ['usr_1']));
  await store.statusLists.ensureList('1', 1024, AT);
  await store.mandates.insert(aMandate(1, 'agt_1', 'usr_1', { status: 'active' }));
}

/** What the other connection sees of token `jti`: each part, so a test can ask for all or none. */
async function seen({ b }: StoreFixture, jti: string) {
  return {
    credential: (await b.credentials.get(jti)) !== null,
    slot: (await b.statusLists.slotOf(jti)) !== null,
    events: (await b.audit.byJti(jti)).length,
  };
}

/**
 * `CredentialRepository.commitIssue` (docs/audit.md "One commit per token"): the live check, the
 * status-list slot, the credential and the audit events are one transaction, on every engine:
 * another connection sees all of them or none, and a refusal or a failure stores none.
 */
export function issueCommitSuite(makeFixture: MakeFixture): void {
  describe('CredentialRepository.commitIssue', () => {
    const fixture = useFixture(makeFixture);

    test('commits the credential, its status-list slot and the audit event together, with the sealed head', async () => {
      const f = fixture();
      await seed(f.a);
      const committed = await f.a.credentials.commitIssue!(write('jti-1', 7), append, issued('jti-1'));
      assert.equal(committed.outcome, 'issued');
      assert.deepEqual(committed.records.map((r) => [r.seq, r.type, r.jti]), [[1, 'token.issued', 'jti-1']]);
      assert.deepEqual(await seen(f, 'jti-1'), { credential: true, slot: true, events: 1 });
      assert.deepEqual(await f.b.statusLists.slotOf('jti-1'), { listId: '1', idx: 7, jti: 'jti-1', reusableAt: AT + 120_000 });
      assert.equal((await f.b.audit.head('main'))?.jws, 'sealed:1');
    });

    test('a mandate that ended meanwhile: not_live, and nothing is stored', async () => {
      const f = fixture();
      await seed(f.a);
      await f.b.mandates.transition('mdt_1', ['active'], { status: 'revoked', endedAt: AT, endReason: 'test' });
      const committed = await f.a.credentials.commitIssue!(write('jti-1', 7), append, issued('jti-1'));
      assert.deepEqual(committed, { outcome: 'not_live', records: [] });
      assert.deepEqual(await seen(f, 'jti-1'), { credential: false, slot: false, events: 0 });
      assert.equal(await f.b.audit.head('main'), null);
    });

    test('an autonomous mint (no mandate) needs only an active agent', async () => {
      const f = fixture();
      await seed(f.a);
      const autonomous = write('jti-a', 9, { credential: aCredential('jti-a', 'agt_1', null, { issuedAt: AT, expiresAt: AT + 60_000 }), live: ['active'], approverId: null });
      assert.equal((await f.a.credentials.commitIssue!(autonomous, append, [{ type: 'token.issued', actor: 'agt_1', jti: 'jti-a' }])).outcome, 'issued');
      assert.deepEqual(await seen(f, 'jti-a'), { credential: true, slot: true, events: 1 });
    });

    test('mints racing a revocation from the other connection: each credential is stored and revoked, or not stored at all', async () => {
      const f = fixture();
      await seed(f.a);
      const revoke = async () => {
        await f.b.mandates.transition('mdt_1', ['active'], { status: 'revoked', endedAt: AT, endReason: 'test' });
        return f.b.credentials.revokeByMandate('mdt_1', AT + 1);
      };
      const mints = Array.from({ length: 10 }, (_, i) => f.a.credentials.commitIssue!(write(`jti-r${i}`, 100 + i, { live: ['active'] }), append, issued(`jti-r${i}`)));
      const [outcomes] = await Promise.all([Promise.all(mints), revoke()]);
      const listed = await f.b.credentials.listByMandate('mdt_1');
      assert.equal(listed.length, outcomes.filter((o) => o.outcome === 'issued').length);
      assert.ok(listed.every((c) => c.revokedAt !== null), 'no credential of the revoked mandate outlives the revocation');
      for (let i = 0; i < 10; i++) {
        const { credential, slot, events } = await seen(f, `jti-r${i}`);
        assert.ok(credential === slot && events === (credential ? 1 : 0), `jti-r${i}: all of it or none`);
      }
    });

    test('mints racing the agent\'s suspension (its status and tokens in one commit) from the other connection: each credential is stored and revoked, or not stored', async () => {
      const f = fixture();
      await seed(f.a);
      const suspend = () => f.b.changes.commitRevocation!({ agent: { id: 'agt_1', from: ['active'], to: 'suspended' }, credentials: { agentId: 'agt_1' }, change: { topic: 'agent.suspended', key: 'agt_1', at: AT + 1 } }, append, () => []);
      const mints = Array.from({ length: 10 }, (_, i) => f.a.credentials.commitIssue!(
        write(`jti-s${i}`, 300 + i, { credential: aCredential(`jti-s${i}`, 'agt_1', null, { issuedAt: AT, expiresAt: AT + 60_000 }), live: ['active'] }), append, issued(`jti-s${i}`)));
      const [outcomes, suspended] = await Promise.all([Promise.all(mints), suspend()]);
      assert.equal(suspended.outcome.applied, true);
      const stored = await Promise.all(Array.from({ length: 10 }, (_, i) => f.b.credentials.get(`jti-s${i}`)));
      assert.deepEqual(stored.map((c) => c !== null), outcomes.map((o) => o.outcome === 'issued'));
      assert.ok(stored.every((c) => c === null || c.revokedAt === AT + 1), 'no token of the suspended agent outlives the suspension');
    });

    test('an agent or a mandate that is not in the store: not_live, and nothing is stored', async () => {
      const f = fixture();
      await seed(f.a);
      const noAgent = write('jti-1', 7, { credential: aCredential('jti-1', 'agt_9', 'mdt_1', { issuedAt: AT, expiresAt: AT + 60_000 }) });
      const noMandate = write('jti-2', 8, { credential: aCredential('jti-2', 'agt_1', 'mdt_9', { issuedAt: AT, expiresAt: AT + 60_000 }) });
      assert.equal((await f.a.credentials.commitIssue!(noAgent, append, issued('jti-1'))).outcome, 'not_live');
      assert.equal((await f.a.credentials.commitIssue!(noMandate, append, issued('jti-2'))).outcome, 'not_live');
      assert.deepEqual(await seen(f, 'jti-1'), { credential: false, slot: false, events: 0 });
      assert.deepEqual(await seen(f, 'jti-2'), { credential: false, slot: false, events: 0 });
    });

    test('a suspended agent: not_live, and nothing is stored', async () => {
      const f = fixture();
      await seed(f.a);
      assert.equal(await f.b.agents.setStatus('agt_1', 'suspended', ['active']), true);
      assert.equal((await f.a.credentials.commitIssue!(write('jti-1', 7), append, issued('jti-1'))).outcome, 'not_live');
      assert.deepEqual(await seen(f, 'jti-1'), { credential: false, slot: false, events: 0 });
    });

    test('a disabled approver (the cascade to their mandates not yet run): approver_disabled, and nothing is stored', async () => {
      const f = fixture();
      await seed(f.a);
      assert.equal(await f.b.humans.disable('usr_1', AT), true);
      const committed = await f.a.credentials.commitIssue!(write('jti-1', 7), append, issued('jti-1'));
      assert.deepEqual(committed, { outcome: 'approver_disabled', records: [] });
      assert.deepEqual(await seen(f, 'jti-1'), { credential: false, slot: false, events: 0 });
      assert.equal(await f.b.audit.head('main'), null);
    });

    test('mints of one turn, one of them with a disabled approver: that one approver_disabled, the others issued with their own events', async () => {
      const f = fixture();
      await seed(f.a);
      await f.a.humans.insert(aHuman(2));
      await f.a.mandates.insert(aMandate(2, 'agt_1', 'usr_2', { status: 'active' }));
      assert.equal(await f.b.humans.disable('usr_2', AT), true);
      const ofDisabled = write('jti-2', 8, { credential: aCredential('jti-2', 'agt_1', 'mdt_2', { issuedAt: AT, expiresAt: AT + 60_000 }), approverId: 'usr_2' });
      const committed = await Promise.all([
        f.a.credentials.commitIssue!(write('jti-1', 7), append, issued('jti-1')),
        f.a.credentials.commitIssue!(ofDisabled, append, issued('jti-2')),
        f.a.credentials.commitIssue!(write('jti-3', 9), append, issued('jti-3')),
      ]);
      assert.deepEqual(committed.map((c) => [c.outcome, c.records.map((r) => r.jti)]), [['issued', ['jti-1']], ['approver_disabled', []], ['issued', ['jti-3']]]);
      assert.deepEqual(await seen(f, 'jti-2'), { credential: false, slot: false, events: 0 });
      assert.deepEqual([await seen(f, 'jti-1'), await seen(f, 'jti-3')], [{ credential: true, slot: true, events: 1 }, { credential: true, slot: true, events: 1 }]);
    });

    test('a suspended agent whose approver is disabled too: not_live comes first', async () => {
      const f = fixture();
      await seed(f.a);
      assert.equal(await f.b.agents.setStatus('agt_1', 'suspended', ['active']), true);
      assert.equal(await f.b.humans.disable('usr_1', AT), true);
      assert.equal((await f.a.credentials.commitIssue!(write('jti-1', 7), append, issued('jti-1'))).outcome, 'not_live');
    });

    test('a status-list index held by a live token: slot_taken, and nothing is stored', async () => {
      const f = fixture();
      await seed(f.a);
      assert.equal((await f.a.credentials.commitIssue!(write('jti-1', 7), append, issued('jti-1'))).outcome, 'issued');
      const committed = await f.a.credentials.commitIssue!(write('jti-2', 7), append, issued('jti-2'));
      assert.deepEqual(committed, { outcome: 'slot_taken', records: [] });
      assert.deepEqual(await seen(f, 'jti-2'), { credential: false, slot: false, events: 0 });
      assert.equal((await f.b.statusLists.slotOf('jti-1'))?.idx, 7, 'the holder keeps its slot');
    });

    test('when the audit head cannot be sealed, nothing of the mint is stored', async () => {
      const f = fixture();
      await seed(f.a);
      const failing: AuditAppend = { ...append, seal: () => { throw new Error('signer down'); } };
      await assert.rejects(f.a.credentials.commitIssue!(write('jti-1', 7), failing, issued('jti-1')), /signer down/);
      assert.deepEqual(await seen(f, 'jti-1'), { credential: false, slot: false, events: 0 });
      assert.equal(await f.b.audit.head('main'), null);
      assert.equal((await f.a.credentials.commitIssue!(write('jti-1', 7), append, issued('jti-1'))).outcome, 'issued', 'a retry then commits');
    });

    test('single-use ids are recorded with the token; a mint presenting one again is replayed and stores nothing else', async () => {
      const f = fixture();
      await seed(f.a);
      assert.equal((await f.a.credentials.commitIssue!(write('jti-1', 7, { singleUse: [id('assertion-1'), id('proof-1')] }), append, issued('jti-1'))).outcome, 'issued');
      assert.equal(await stillFree(f.b, 'proof-1'), false, 'recorded with the token');
      const again = await f.a.credentials.commitIssue!(write('jti-2', 8, { singleUse: [id('assertion-2'), id('proof-1'), id('extra-2')] }), append, issued('jti-2'));
      assert.deepEqual(again, { outcome: 'replayed', records: [], replayed: id('proof-1') });
      assert.deepEqual(await seen(f, 'jti-2'), { credential: false, slot: false, events: 0 });
      assert.equal(await stillFree(f.b, 'assertion-2'), false, 'the ids not seen before stay recorded');
      assert.equal(await stillFree(f.b, 'extra-2'), false, 'after the replayed one too');
    });

    test('an id whose expiry has come by the commit is refused as a replay (its first use may have been purged)', async () => {
      const f = fixture();
      await seed(f.a);
      const late = await f.a.credentials.commitIssue!(write('jti-1', 7, { singleUse: [id('proof-late', AT)] }), append, issued('jti-1'));
      assert.deepEqual(late, { outcome: 'replayed', records: [], replayed: id('proof-late', AT) });
      assert.deepEqual(await seen(f, 'jti-1'), { credential: false, slot: false, events: 0 });
    });

    test('a refused mint (not_live) still records its single-use ids', async () => {
      const f = fixture();
      await seed(f.a);
      assert.equal(await f.b.agents.setStatus('agt_1', 'suspended', ['active']), true);
      assert.equal((await f.a.credentials.commitIssue!(write('jti-1', 7, { singleUse: [id('proof-1')] }), append, issued('jti-1'))).outcome, 'not_live');
      assert.equal(await stillFree(f.b, 'proof-1'), false);
    });

    test('an id whose entry has expired counts as unseen', async () => {
      const f = fixture();
      await seed(f.a);
      assert.equal(await f.b.replay.checkAndInsert('dpop', 'old', AT - 1, AT - 60_000), true);
      assert.equal((await f.a.credentials.commitIssue!(write('jti-1', 7, { singleUse: [id('old')] }), append, issued('jti-1'))).outcome, 'issued');
    });

    test('12 concurrent mints presenting one id, from two connections: exactly one is issued', async () => {
      const f = fixture();
      await seed(f.a);
      const results = await onBoth(f, 12, (store, i) => store.credentials.commitIssue!(write(`jti-${i}`, 200 + i, { singleUse: [id(`own-${i}`), id('shared')] }), append, issued(`jti-${i}`)));
      assert.equal(results.filter((r) => r.outcome === 'issued').length, 1);
      assert.ok(results.every((r) => r.outcome === 'issued' || r.replayed?.id === 'shared'));
      assert.equal((await f.b.audit.read('main', 1, 100)).length, 1, 'one token.issued event');
    });

    test('40 concurrent mints from two connections: all stored, the chain gap-free, the head sealed once per commit, not per mint', async () => {
      const f = fixture();
      await seed(f.a);
      seals.length = 0;
      const results = await onBoth(f, 40, (store, i) => store.credentials.commitIssue!(write(`jti-${i}`, i), append, issued(`jti-${i}`)));
      assert.deepEqual(results.map((r) => r.outcome), Array(40).fill('issued'));
      const events = await f.b.audit.read('main', 1, 100);
      assert.deepEqual(events.map((e) => e.seq), Array.from({ length: 40 }, (_, i) => i + 1));
      assert.deepEqual(checkChain(events, nodeChainHashing), []);
      assert.ok(seals.length >= 1 && seals.length < 40, `${seals.length} seals for 40 mints`);
      assert.equal((await f.b.audit.head('main'))?.jws, 'sealed:40');
      for (let i = 0; i < 40; i++) assert.deepEqual(await seen(f, `jti-${i}`), { credential: true, slot: true, events: 1 });
    });
  });
}
