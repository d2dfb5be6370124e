import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Passkey } from '../../ports/console.ts';
import { onBoth, useFixture, type MakeFixture } from './fixture.ts';
import { aHuman } from './records.ts';

const passkey = (humanId: string, overrides: Partial<Passkey> = {}): Passkey => ({
  credentialId: 'cred-1', humanId, publicKey: 'pQECAyYgASFYIA', counter: 0, transports: ['internal'], createdAt: 1, lastUsedAt: null, ...overrides,
});

/** The console's repositories (migration 0008): every guarded change holds across two connections. */
export function consoleSuite(makeFixture: MakeFixture): void {
  describe('ConsoleRepositories', () => {
    const fixture = useFixture(makeFixture);

    test('passkeys round-trip; of concurrent uses with one counter exactly one records', async () => {
      const f = fixture();
      await f.a.humans.insert(aHuman(1));
      await f.a.console.passkeys.insert(passkey('usr_1', { counter: 3 }));
      assert.deepEqual(await f.b.console.passkeys.get('cred-1'), passkey('usr_1', { counter: 3 }));
      assert.deepEqual((await f.b.console.passkeys.listByHuman('usr_1')).map((p) => p.credentialId), ['cred-1']);
      const wins = await onBoth(f, 8, (store, i) => store.console.passkeys.recordUse('cred-1', 3, 4 + i, 10));
      assert.equal(wins.filter(Boolean).length, 1);
      assert.equal(await f.a.console.passkeys.recordUse('cred-1', 3, 99, 11), false, 'a stale expected counter');
    });

    test('an invite is consumed once, never after its expiry', async () => {
      const f = fixture();
      await f.a.humans.insert(aHuman(1));
      const invite = { tokenHash: 'h1', humanId: 'usr_1', createdBy: null, createdAt: 1, expiresAt: 100, usedAt: null };
      await f.a.console.invites.insert(invite);
      await f.a.console.invites.insert({ ...invite, tokenHash: 'h2' });
      assert.equal(await f.a.console.invites.consume('h2', 100), false, 'expired at its expiry');
      const wins = await onBoth(f, 6, (store) => store.console.invites.consume('h1', 50));
      assert.equal(wins.filter(Boolean).length, 1);
      assert.equal((await f.b.console.invites.get('h1'))?.usedAt, 50);
    });

    test('sessions expire, step up, and end one by one or per human', async () => {
      const f = fixture();
      await f.a.humans.insert(aHuman(1));
      const session = { idHash: 's1', humanId: 'usr_1', csrf: 'c', method: 'oidc' as const, createdAt: 1, expiresAt: 100, stepUpAt: null };
      await f.a.console.sessions.insert(session);
      await f.a.console.sessions.insert({ ...session, idHash: 's2' });
      assert.deepEqual(await f.b.console.sessions.get('s1', 99), session);
      assert.equal(await f.b.console.sessions.get('s1', 100), null, 'expired');
      await f.b.console.sessions.markStepUp('s1', 42);
      assert.equal((await f.a.console.sessions.get('s1', 50))?.stepUpAt, 42);
      await f.a.console.sessions.delete('s1');
      assert.equal(await f.a.console.sessions.get('s1', 50), null);
      assert.equal(await f.b.console.sessions.deleteByHuman('usr_1'), 1);
    });

    test('roles are replaced as a set; unknown role names read as nothing', async () => {
      const f = fixture();
      await f.a.humans.insert(aHuman(1));
      await f.a.console.roles.set('usr_1', ['owner', 'approver', 'owner']);
      assert.deepEqual(await f.b.console.roles.get('usr_1'), ['approver', 'owner']);
      await f.b.console.roles.set('usr_1', []);
      assert.deepEqual(await f.a.console.roles.get('usr_1'), []);
    });

    test('an OIDC subject links once: the first human wins', async () => {
      const f = fixture();
      await f.a.humans.insert(aHuman(1));
      await f.a.humans.insert(aHuman(2));
      assert.equal(await f.a.console.oidcLinks.find('https://idp', 'sub-1'), null);
      const linked = await onBoth(f, 4, (store, i) => store.console.oidcLinks.link('https://idp', 'sub-1', `usr_${(i % 2) + 1}`, i));
      assert.equal(new Set(linked).size, 1);
      assert.equal(await f.b.console.oidcLinks.find('https://idp', 'sub-1'), linked[0]);
    });
  });
}
