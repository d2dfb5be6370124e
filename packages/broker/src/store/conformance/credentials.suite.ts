import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Store } from '../../ports/store.ts';
import { onBoth, useFixture, type MakeFixture } from './fixture.ts';
import { aCredential, aHuman, aMandate, anAgent } from './records.ts';

/** usr_1; agents agt_1, agt_2; mandates mdt_1, mdt_2 of agt_1 and mdt_3 of agt_2. */
async function seed(store: Store): Promise<void> {
  await store.humans.insert(aHuman(1));
  for (const n of [1, 2]) await store.agents.insert(anAgent(n, ['usr_1']));
  await store.mandates.insert(aMandate(1, 'agt_1', 'usr_1', { status: 'active' }));
  await store.mandates.insert(aMandate(2, 'agt_1', 'usr_1', { status: 'active' }));
  await store.mandates.insert(aMandate(3, 'agt_2', 'usr_1', { status: 'active' }));
}

export function credentialRepositorySuite(makeFixture: MakeFixture): void {
  describe('CredentialRepository', () => {
    const fixture = useFixture(makeFixture);

    test('a credential inserted on one connection reads back whole on the other, with or without a mandate', async () => {
      const { a, b } = fixture();
      await seed(a);
      const delegated = aCredential('jti-1', 'agt_1', 'mdt_1', { revokedAt: 1_700_000_600_000 });
      const autonomous = aCredential('jti-2', 'agt_2', null);
      await a.credentials.insert(delegated);
      await a.credentials.insert(autonomous);
      assert.deepEqual(await b.credentials.get('jti-1'), delegated);
      assert.deepEqual(await b.credentials.get('jti-2'), autonomous);
      assert.equal(await b.credentials.get('jti-404'), null);
    });

    test('a duplicate jti, an unknown agent or an unknown mandate is refused', async () => {
      const { a, b } = fixture();
      await seed(a);
      await a.credentials.insert(aCredential('jti-1', 'agt_1', 'mdt_1'));
      await assert.rejects(b.credentials.insert(aCredential('jti-1', 'agt_2', null)));
      await assert.rejects(b.credentials.insert(aCredential('jti-2', 'agt_404', null)));
      await assert.rejects(b.credentials.insert(aCredential('jti-3', 'agt_1', 'mdt_404')));
      assert.equal((await a.credentials.get('jti-1'))?.agentId, 'agt_1');
      assert.equal(await a.credentials.get('jti-2'), null);
      assert.equal(await a.credentials.get('jti-3'), null);
    });

    test('revoke succeeds once and keeps the first time; unknown jtis return false', async () => {
      const { a, b } = fixture();
      await seed(a);
      await a.credentials.insert(aCredential('jti-1', 'agt_1', 'mdt_1'));
      assert.equal(await b.credentials.revoke('jti-1', 700), true);
      assert.equal(await a.credentials.revoke('jti-1', 800), false);
      assert.equal((await b.credentials.get('jti-1'))?.revokedAt, 700);
      assert.equal(await a.credentials.revoke('jti-404', 800), false);
    });

    test('revokeByMandate and revokeByAgent count only the credentials they revoked', async () => {
      const { a, b } = fixture();
      await seed(a);
      for (const [jti, agent, mandate] of [['m1-a', 'agt_1', 'mdt_1'], ['m1-b', 'agt_1', 'mdt_1'], ['m1-c', 'agt_1', 'mdt_1'], ['m2-a', 'agt_1', 'mdt_2'], ['cc-1', 'agt_1', null], ['m3-a', 'agt_2', 'mdt_3']] as const) {
        await a.credentials.insert(aCredential(jti, agent, mandate));
      }
      await a.credentials.revoke('m1-b', 100);
      assert.equal(await b.credentials.revokeByMandate('mdt_1', 200), 2);
      assert.equal(await a.credentials.revokeByMandate('mdt_1', 300), 0);
      assert.deepEqual((await b.credentials.listByMandate('mdt_1')).map((c) => c.revokedAt), [200, 100, 200]);
      assert.equal(await b.credentials.revokeByAgent('agt_1', 400), 2, 'mdt_2 and the autonomous token');
      assert.equal(await a.credentials.revokeByAgent('agt_1', 500), 0);
      assert.equal((await a.credentials.get('cc-1'))?.revokedAt, 400);
      assert.equal((await a.credentials.get('m3-a'))?.revokedAt, null, 'another agent is untouched');
      assert.equal(await a.credentials.revokeByMandate('mdt_404', 1), 0);
      assert.equal(await a.credentials.revokeByAgent('agt_404', 1), 0);
    });

    test('listByMandate returns the mandate\'s credentials oldest first', async () => {
      const { a, b } = fixture();
      await seed(a);
      await a.credentials.insert(aCredential('j-late', 'agt_1', 'mdt_1', { issuedAt: 30 }));
      await b.credentials.insert(aCredential('j-b', 'agt_1', 'mdt_1', { issuedAt: 10 }));
      await a.credentials.insert(aCredential('j-a', 'agt_1', 'mdt_1', { issuedAt: 10 }));
      await a.credentials.insert(aCredential('j-other', 'agt_1', 'mdt_2', { issuedAt: 1 }));
      assert.deepEqual((await b.credentials.listByMandate('mdt_1')).map((c) => c.jti), ['j-a', 'j-b', 'j-late']);
      assert.deepEqual(await b.credentials.listByMandate('mdt_404'), []);
    });

    test('concurrent revocations of one jti from two connections: exactly one wins', async () => {
      const f = fixture();
      await seed(f.a);
      await f.a.credentials.insert(aCredential('raced', 'agt_1', 'mdt_1'));
      const results = await onBoth(f, 20, (store, i) => store.credentials.revoke('raced', 1000 + i));
      assert.equal(results.filter(Boolean).length, 1);
      assert.equal((await f.b.credentials.get('raced'))?.revokedAt, 1000 + results.indexOf(true));
    });

    test('concurrent revokeByMandate and revokeByAgent from two connections revoke each credential once', async () => {
      const f = fixture();
      await seed(f.a);
      for (let i = 0; i < 10; i++) await f.a.credentials.insert(aCredential(`j${i}`, 'agt_1', i % 2 ? 'mdt_1' : 'mdt_2'));
      const counts = await onBoth(f, 12, (store, i) => i % 3 ? store.credentials.revokeByMandate(i % 2 ? 'mdt_1' : 'mdt_2', i) : store.credentials.revokeByAgent('agt_1', i));
      assert.equal(counts.reduce((x, y) => x + y, 0), 10);
    });
  });
}
