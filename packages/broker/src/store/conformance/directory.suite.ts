import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { agentRepositorySuite } from './agents.suite.ts';
import { useFixture, type MakeFixture } from './fixture.ts';
import { aHuman, anAdminToken } from './records.ts';

/** Humans, agents and admin tokens. */
export function directorySuite(makeFixture: MakeFixture): void {
  humanRepositorySuite(makeFixture);
  agentRepositorySuite(makeFixture);
  adminTokenRepositorySuite(makeFixture);
}

function humanRepositorySuite(makeFixture: MakeFixture): void {
  describe('HumanRepository', () => {
    const fixture = useFixture(makeFixture);

    test('a human inserted on one connection reads back whole on the other', async () => {
      const { a, b } = fixture();
      await a.humans.insert(aHuman(1));
      await a.humans.insert(aHuman(2));
      assert.deepEqual(await b.humans.get('usr_1'), aHuman(1));
      assert.deepEqual(await b.humans.get('usr_2'), aHuman(2));
      assert.equal(await b.humans.get('usr_404'), null);
    });

    test('list is ordered by creation time', async () => {
      const { a, b } = fixture();
      await a.humans.insert(aHuman(1, { createdAt: 300 }));
      await b.humans.insert(aHuman(2, { createdAt: 100 }));
      await a.humans.insert(aHuman(3, { createdAt: 200 }));
      assert.deepEqual((await b.humans.list()).map((h) => h.id), ['usr_2', 'usr_3', 'usr_1']);
    });

    test('a duplicate id is refused', async () => {
      const { a, b } = fixture();
      await a.humans.insert(aHuman(1));
      await assert.rejects(b.humans.insert(aHuman(1, { name: 'Other' })));
      assert.equal((await a.humans.get('usr_1'))?.name, 'Human 1');
    });

    test('disable succeeds once and keeps the first time; unknown ids return false', async () => {
      const { a, b } = fixture();
      await a.humans.insert(aHuman(1));
      assert.equal(await b.humans.disable('usr_1', 500), true);
      assert.equal(await a.humans.disable('usr_1', 900), false);
      assert.deepEqual(await a.humans.get('usr_1'), aHuman(1, { status: 'disabled', disabledAt: 500 }));
      assert.equal(await a.humans.disable('usr_404', 500), false);
    });
  });
}

function adminTokenRepositorySuite(makeFixture: MakeFixture): void {
  describe('AdminTokenRepository', () => {
    const fixture = useFixture(makeFixture);

    test('a token inserted on one connection reads back whole on the other, rights in order', async () => {
      const { a, b } = fixture();
      await a.humans.insert(aHuman(1));
      const token = anAdminToken(1, 'usr_1', { rights: ['keys:rotate', 'admin'], expiresAt: 9_999 });
      await a.adminTokens.insert(token);
      assert.deepEqual(await b.adminTokens.get('tok_1'), token);
      assert.equal(await b.adminTokens.get('tok_404'), null);
    });

    test('list is ordered by creation time', async () => {
      const { a, b } = fixture();
      await a.humans.insert(aHuman(1));
      await a.adminTokens.insert(anAdminToken(1, 'usr_1', { createdAt: 20 }));
      await b.adminTokens.insert(anAdminToken(2, 'usr_1', { createdAt: 10 }));
      assert.deepEqual((await a.adminTokens.list()).map((t) => t.id), ['tok_2', 'tok_1']);
    });

    test('a token for an unknown human is refused', async () => {
      const { a } = fixture();
      await assert.rejects(a.adminTokens.insert(anAdminToken(1, 'usr_404')));
      assert.equal(await a.adminTokens.get('tok_1'), null);
    });

    test('revoke succeeds once and keeps the first time; unknown ids return false', async () => {
      const { a, b } = fixture();
      await a.humans.insert(aHuman(1));
      await a.adminTokens.insert(anAdminToken(1, 'usr_1'));
      assert.equal(await b.adminTokens.revoke('tok_1', 700), true);
      assert.equal(await a.adminTokens.revoke('tok_1', 800), false);
      assert.equal((await a.adminTokens.get('tok_1'))?.revokedAt, 700);
      assert.equal(await a.adminTokens.revoke('tok_404', 800), false);
    });
  });
}
