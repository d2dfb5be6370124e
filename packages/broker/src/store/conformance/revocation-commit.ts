import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { AuditAppend } from '../../ports/audit-sink.ts';
import type { RevocationEvents, RevocationWrite } from '../../ports/change-feed.ts';
import type { Store } from '../../ports/store.ts';
import { onBoth, useFixture, type MakeFixture, type StoreFixture } from './fixture.ts';
import { aCredential, aHuman, aMandate, anAgent } from './records.ts';

const AT = 1_700_000_700_000;
const append: AuditAppend = { chain: 'main', time: AT, seal: (head) => `sealed:${head.seq}` };
const mandateRevoked = (n: number): RevocationWrite => ({
  mandate: { id: `mdt_${n}`, from: ['active'], patch: { status: 'revoked', endedAt: AT, endReason: 'test' } },
  credentials: { mandateId: `mdt_${n}` },
  change: { topic: 'mandate.revoked', key: `mdt_${n}`, at: AT },
});
const audited = (n: number): RevocationEvents => (o) => [{ type: 'mandate.revoked', actor: 'usr_1', mandateId: `mdt_${n}`, data: { credentials_revoked: o.credentialsRevoked } }];

/** Active mandates mdt_1…mdt_n of agt_1, each with two tokens (`jti-<n>-0/1`) holding status-list slots 2n and 2n+1. */
async function seed(store: Store, n: number): Promise<void> {
  await store.humans.insert(aHuman(1));
  await store.agents.insert(anAgent(1, ['usr_1']));
  await store.statusLists.ensureList('1', 1024, AT);
  for (let i = 1; i <= n; i++) {
    await store.mandates.insert(aMandate(i, 'agt_1', 'usr_1', { status: 'active' }));
    for (const k of [0, 1]) {
      await store.credentials.insert(aCredential(`jti-${i}-${k}`, 'agt_1', `mdt_${i}`, { expiresAt: AT + 60_000 }));
      await store.statusLists.claim({ listId: '1', idx: 2 * i + k, jti: `jti-${i}-${k}`, reusableAt: AT + 120_000 }, AT);
    }
  }
}

/** What the other connection sees of mandate `n`'s revocation: each part, so a test can ask for all or none. */
async function seen({ b }: StoreFixture, n: number) {
  const changes = (await b.changes.since(0, 100)).filter((c) => c.key === `mdt_${n}`);
  return {
    status: (await b.mandates.get(`mdt_${n}`))!.status,
    revokedTokens: (await b.credentials.listByMandate(`mdt_${n}`)).filter((c) => c.revokedAt === AT).length,
    bits: (await b.statusLists.revokedIndexes('1', AT)).filter((i) => i === 2 * n || i === 2 * n + 1).length,
    changes: changes.length,
    events: (await b.audit.byMandate(`mdt_${n}`, 10)).length,
  };
}

/**
 * `ChangeFeed.commitRevocation` (docs/revocation.md): the mandate transition, the credentials (and
 * so their status-list bits), the change-feed row and the audit events are one transaction, on
 * every engine: another connection sees all of them or none, and a failure leaves none.
 */
export function revocationCommitSuite(makeFixture: MakeFixture): void {
  describe('ChangeFeed.commitRevocation', () => {
    const fixture = useFixture(makeFixture);

    test('commits the transition, the credentials and their status bits, the change row and the audit event together', async () => {
      const f = fixture();
      await seed(f.a, 1);
      const committed = await f.a.changes.commitRevocation!(mandateRevoked(1), append, audited(1));
      assert.deepEqual(committed.outcome, { applied: true, credentialsRevoked: 2, cursor: committed.outcome.cursor });
      assert.deepEqual(await f.b.changes.since(0, 10), [{ cursor: committed.outcome.cursor, topic: 'mandate.revoked', key: 'mdt_1', at: AT }]);
      assert.deepEqual(committed.records.map((r) => [r.seq, r.type, r.data]), [[1, 'mandate.revoked', { credentials_revoked: 2 }]]);
      assert.deepEqual(await seen(f, 1), { status: 'revoked', revokedTokens: 2, bits: 2, changes: 1, events: 1 });
      assert.equal((await f.b.audit.head('main'))?.jws, 'sealed:1', 'the sealed head is stored with the events');
    });

    test('a reader on another connection never sees the change row without the revocation, nor the revocation without the row', async () => {
      const f = fixture();
      const n = 12;
      await seed(f.a, n);
      let done = false;
      const torn: string[] = [];
      const reader = (async () => {
        for (let reads = 0; !done || reads === 0; reads++) {
          // Yield a whole turn: a synchronous driver (SQLite) would otherwise starve the writers' group commit.
          await new Promise((resolve) => setImmediate(resolve));
          const before = await f.b.changes.since(0, 100);
          const statuses = await Promise.all(Array.from({ length: n }, async (_, i) => (await f.b.mandates.get(`mdt_${i + 1}`))!.status));
          const after = new Set((await f.b.changes.since(0, 100)).map((c) => c.key));
          for (const c of before) if (statuses[Number(c.key.slice(4)) - 1] !== 'revoked') torn.push(`row before revocation: ${c.key}`);
          statuses.forEach((s, i) => s === 'revoked' && !after.has(`mdt_${i + 1}`) && torn.push(`revocation before row: mdt_${i + 1}`));
        }
      })();
      await onBoth(f, n, (store, i) => store.changes.commitRevocation!(mandateRevoked(i + 1), append, audited(i + 1)));
      done = true;
      await reader;
      assert.deepEqual(torn, []);
      assert.equal((await f.b.changes.since(0, 100)).length, n);
    });

    test('when the audit append fails (the seal throws), nothing of the revocation is stored', async () => {
      const f = fixture();
      await seed(f.a, 1);
      const failing: AuditAppend = { ...append, seal: () => { throw new Error('signer down'); } };
      await assert.rejects(f.a.changes.commitRevocation!(mandateRevoked(1), failing, audited(1)), /signer down/);
      assert.deepEqual(await seen(f, 1), { status: 'active', revokedTokens: 0, bits: 0, changes: 0, events: 0 });
      assert.equal(await f.b.audit.head('main'), null);
      assert.equal((await f.a.changes.commitRevocation!(mandateRevoked(1), append, audited(1))).outcome.applied, true, 'a retry then applies');
    });

    test('of concurrent revocations of one mandate from two connections exactly one applies, publishes and audits', async () => {
      const f = fixture();
      await seed(f.a, 1);
      const results = await onBoth(f, 8, (store) => store.changes.commitRevocation!(mandateRevoked(1), append, audited(1)));
      assert.equal(results.filter((r) => r.outcome.applied).length, 1);
      for (const r of results.filter((x) => !x.outcome.applied)) assert.deepEqual(r, { outcome: { applied: false, credentialsRevoked: 0, cursor: null }, records: [] });
      assert.deepEqual(await seen(f, 1), { status: 'revoked', revokedTokens: 2, bits: 2, changes: 1, events: 1 });
    });

    test('mandate and agent revocations racing over shared tokens from two connections never fail; each token is revoked once', async () => {
      // Review finding 6: by mandate and by agent, the updates scanned the same rows in different
      // orders (a deadlock on PostgreSQL, then a 503). 40 rounds, each a fresh agent and tree.
      const f = fixture();
      await f.a.humans.insert(aHuman(1));
      for (let round = 1; round <= 40; round++) {
        const agentId = `agt_${round}`;
        await f.a.agents.insert(anAgent(round, ['usr_1']));
        const ids = [1, 2, 3].map((i) => 100 * round + i);
        for (const n of ids) {
          await f.a.mandates.insert(aMandate(n, agentId, 'usr_1', { status: 'active' }));
          // jti order is the reverse of insertion (scan) order.
          for (const k of [9, 5, 1]) await f.a.credentials.insert(aCredential(`jti-${round}-${k}-${n}`, agentId, `mdt_${n}`));
        }
        await f.a.credentials.insert(aCredential(`jti-${round}-0-autonomous`, agentId, null));
        const agentWrite: RevocationWrite = { credentials: { agentId }, change: { topic: 'agent.suspended', key: agentId, at: AT } };
        const results = await onBoth(f, 8, (store, i) => store.changes.commitRevocation!(i < 6 ? mandateRevoked(ids[i % 3]!) : agentWrite, append, i < 6 ? audited(ids[i % 3]!) : () => []));
        assert.equal(results.reduce((sum, r) => sum + r.outcome.credentialsRevoked, 0), 10, `round ${round}: every token revoked exactly once`);
        assert.equal(results.filter((r, i) => i < 6 && r.outcome.applied).length, 3, `round ${round}: each mandate revoked once`);
        assert.deepEqual((await f.b.credentials.listByMandate(`mdt_${ids[0]}`)).map((c) => c.revokedAt), [AT, AT, AT]);
      }
      assert.equal((await f.b.audit.read('main', 1, 1000)).length, 120);
    });

    test('a mandate\'s transition with the tokens of its whole tree (mandateTree): every depth below it, no other mandate', async () => {
      const f = fixture();
      await seed(f.a, 2);
      // mdt_1 ← mdt_3 ← mdt_4 (sub-grant hops to another agent), each with one token in status-list slot 2n; mdt_2 stays out of it.
      await f.a.agents.insert(anAgent(2, ['usr_1']));
      for (const [n, parent, depth] of [[3, 'mdt_1', 1], [4, 'mdt_3', 2]] as const) {
        assert.ok(await f.a.mandates.insertChild(aMandate(n, 'agt_2', 'usr_1', { status: 'active', hop: { parentId: parent, depth, subGrantHash: `sg-${n}` } }), null));
        await f.a.credentials.insert(aCredential(`jti-${n}-0`, 'agt_2', `mdt_${n}`, { expiresAt: AT + 60_000 }));
        await f.a.statusLists.claim({ listId: '1', idx: 2 * n, jti: `jti-${n}-0`, reusableAt: AT + 120_000 }, AT);
      }
      const write: RevocationWrite = {
        mandate: { id: 'mdt_1', from: ['active'], patch: { status: 'suspended', endReason: 'review_overdue' } },
        credentials: { mandateTree: 'mdt_1' },
        change: { topic: 'mandate.suspended', key: 'mdt_1', at: AT },
      };
      const committed = await f.a.changes.commitRevocation!(write, append, (o) => [{ type: 'mandate.suspended', actor: null, mandateId: 'mdt_1', data: { credentials_revoked: o.credentialsRevoked } }]);
      assert.equal(committed.outcome.credentialsRevoked, 4);
      assert.deepEqual(await seen(f, 1), { status: 'suspended', revokedTokens: 2, bits: 2, changes: 1, events: 1 });
      assert.deepEqual(await seen(f, 2), { status: 'active', revokedTokens: 0, bits: 0, changes: 0, events: 0 }, 'a mandate outside the tree keeps its tokens');
      for (const n of [3, 4]) assert.deepEqual((await f.b.credentials.listByMandate(`mdt_${n}`)).map((c) => c.revokedAt), [AT], `mdt_${n}'s token`);
      assert.deepEqual((await f.b.statusLists.revokedIndexes('1', AT)).filter((i) => i >= 6).sort((x, y) => x - y), [6, 8], 'their status-list bits');
      assert.equal((await f.b.mandates.get('mdt_3'))!.status, 'active', 'only the root changes state; minting below it stops with it (PROTOCOL §10)');
    });

    test('an agent\'s status change with its tokens: one of concurrent writes applies; a later one from a state it may not leave writes nothing', async () => {
      const f = fixture();
      await seed(f.a, 2);
      const suspend: RevocationWrite = { agent: { id: 'agt_1', from: ['active'], to: 'suspended' }, credentials: { agentId: 'agt_1' }, change: { topic: 'agent.suspended', key: 'agt_1', at: AT } };
      const event: RevocationEvents = (o) => [{ type: 'agent.suspended', actor: 'usr_1', data: { agent_id: 'agt_1', credentials_revoked: o.credentialsRevoked } }];
      const results = await onBoth(f, 6, (store) => store.changes.commitRevocation!(suspend, append, event));
      assert.deepEqual(results.map((r) => r.outcome.applied).filter(Boolean), [true]);
      assert.equal(results.find((r) => r.outcome.applied)!.outcome.credentialsRevoked, 4);
      assert.equal((await f.b.agents.get('agt_1'))!.status, 'suspended');
      assert.deepEqual((await f.b.changes.since(0, 10)).map((c) => c.topic), ['agent.suspended']);
      assert.deepEqual((await f.b.audit.read('main', 1, 10)).map((e) => e.data), [{ agent_id: 'agt_1', credentials_revoked: 4 }]);
      const retire: RevocationWrite = { ...suspend, agent: { id: 'agt_1', from: ['active'], to: 'retired' }, change: { ...suspend.change, topic: 'agent.retired' } };
      assert.deepEqual((await f.a.changes.commitRevocation!(retire, append, event)).outcome, { applied: false, credentialsRevoked: 0, cursor: null });
      assert.equal((await f.b.agents.get('agt_1'))!.status, 'suspended');
      assert.equal((await f.b.changes.since(0, 10)).length, 1);
      await assert.rejects(f.a.changes.commitRevocation!({ ...mandateRevoked(1), agent: retire.agent }, append, () => []), /one mandate, agent or human at most/);
      assert.equal((await f.b.mandates.get('mdt_1'))!.status, 'active');
    });

    test('a human\'s disabling with its audit events: one of concurrent writes applies; the first disabledAt stays; a failed append changes nothing', async () => {
      const f = fixture();
      await seed(f.a, 1);
      const disable = (at: number): RevocationWrite => ({ human: { id: 'usr_1', at }, change: { topic: 'human.disabled', key: 'usr_1', at, publish: false } });
      const event: RevocationEvents = () => [{ type: 'human.disabled', actor: 'usr_9', data: { human_id: 'usr_1' } }];
      const failing: AuditAppend = { ...append, seal: () => { throw new Error('signer down'); } };
      await assert.rejects(f.a.changes.commitRevocation!(disable(AT), failing, event), /signer down/);
      assert.equal((await f.b.humans.get('usr_1'))!.status, 'active', 'not disabled without its audit event');
      assert.equal(await f.b.audit.head('main'), null);
      const results = await onBoth(f, 6, (store, i) => store.changes.commitRevocation!(disable(AT + i), append, event));
      assert.deepEqual(results.map((r) => r.outcome).filter((o) => o.applied), [{ applied: true, credentialsRevoked: 0, cursor: null }]);
      const human = (await f.b.humans.get('usr_1'))!;
      assert.equal(human.status, 'disabled');
      assert.equal(human.disabledAt, AT + results.findIndex((r) => r.outcome.applied));
      assert.deepEqual((await f.b.audit.read('main', 1, 10)).map((e) => e.type), ['human.disabled']);
      assert.deepEqual(await f.b.changes.since(0, 10), [], 'no change row: the cascade\'s revocations publish');
      assert.equal((await f.b.mandates.get('mdt_1'))!.status, 'active', 'the mandates are the cascade\'s, not this write\'s');
      assert.equal((await f.a.changes.commitRevocation!(disable(AT + 50), append, event)).outcome.applied, false);
      assert.equal((await f.a.changes.commitRevocation!({ human: { id: 'usr_404', at: AT }, change: disable(AT).change }, append, event)).outcome.applied, false, 'unknown');
      await assert.rejects(f.a.changes.commitRevocation!({ ...disable(AT), agent: { id: 'agt_1', from: ['active'], to: 'retired' } }, append, () => []), /one mandate, agent or human at most/);
      assert.equal((await f.b.audit.read('main', 1, 10)).length, 1);
    });

    test('when the audit append of an agent\'s status change fails, neither the status nor a token changes', async () => {
      const f = fixture();
      await seed(f.a, 1);
      const failing: AuditAppend = { ...append, seal: () => { throw new Error('signer down'); } };
      const suspend: RevocationWrite = { agent: { id: 'agt_1', from: ['active'], to: 'suspended' }, credentials: { agentId: 'agt_1' }, change: { topic: 'agent.suspended', key: 'agt_1', at: AT } };
      await assert.rejects(f.a.changes.commitRevocation!(suspend, failing, () => [{ type: 'agent.suspended', actor: 'usr_1' }]), /signer down/);
      assert.equal((await f.b.agents.get('agt_1'))!.status, 'active');
      assert.deepEqual(await seen(f, 1), { status: 'active', revokedTokens: 0, bits: 0, changes: 0, events: 0 });
      assert.deepEqual(await f.b.changes.since(0, 10), []);
      assert.equal(await f.b.audit.head('main'), null);
      assert.equal((await f.a.changes.commitRevocation!(suspend, append, () => [{ type: 'agent.suspended', actor: 'usr_1' }])).outcome.credentialsRevoked, 2, 'a retry then applies');
    });

    test('publish: false: the transition and its audit event commit, and no change row is written', async () => {
      const f = fixture();
      await seed(f.a, 1);
      const write: RevocationWrite = {
        mandate: { id: 'mdt_1', from: ['active'], patch: { status: 'suspended', endReason: 'agent_suspended' } },
        change: { topic: 'mandate.suspended', key: 'mdt_1', at: AT, publish: false },
      };
      const committed = await f.a.changes.commitRevocation!(write, append, () => [{ type: 'mandate.suspended', actor: null, mandateId: 'mdt_1' }]);
      assert.deepEqual(committed.outcome, { applied: true, credentialsRevoked: 0, cursor: null });
      assert.deepEqual(await seen(f, 1), { status: 'suspended', revokedTokens: 0, bits: 0, changes: 0, events: 1 });
      assert.deepEqual(await f.b.changes.since(0, 10), []);
      const silent: RevocationWrite = { credentials: { agentId: 'agt_1' }, change: { topic: 'agent.suspended', key: 'agt_1', at: AT, publish: false } };
      await assert.rejects(f.a.changes.commitRevocation!(silent, append, () => []), /must publish/);
      assert.equal((await f.b.credentials.listByMandate('mdt_1')).filter((c) => c.revokedAt !== null).length, 0, 'tokens revoked unannounced: refused');
    });

    test('a token or an agent revocation that revokes no credential writes nothing; one that does publishes once', async () => {
      const f = fixture();
      await seed(f.a, 1);
      const token = (jti: string): RevocationWrite => ({ credentials: { jti }, change: { topic: 'token.revoked', key: jti, at: AT } });
      const event: RevocationEvents = () => [{ type: 'token.revoked', actor: 'agt_1' }];
      assert.equal((await f.a.changes.commitRevocation!(token('jti-unknown'), append, event)).outcome.applied, false);
      assert.deepEqual((await f.a.changes.commitRevocation!(token('jti-1-0'), append, event)).outcome.credentialsRevoked, 1);
      assert.equal((await f.b.changes.commitRevocation!(token('jti-1-0'), append, event)).outcome.applied, false, 'already revoked');
      const agent: RevocationWrite = { credentials: { agentId: 'agt_1' }, change: { topic: 'agent.suspended', key: 'agt_1', at: AT } };
      assert.deepEqual((await f.b.changes.commitRevocation!(agent, append, () => [])).records, []);
      assert.equal((await f.a.changes.commitRevocation!(agent, append, () => [])).outcome.applied, false, 'no token left to revoke');
      assert.deepEqual((await f.b.changes.since(0, 10)).map((c) => c.topic), ['token.revoked', 'agent.suspended']);
      assert.deepEqual((await f.b.audit.read('main', 1, 10)).map((e) => e.type), ['token.revoked']);
    });
  });
}
