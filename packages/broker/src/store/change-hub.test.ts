import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { aCredential, aHuman, anAgent } from './conformance/records.ts';
import { createSqliteStore, type SqliteStore } from './sqlite/index.ts';

/**
 * SQLite has no NOTIFY: one process owns the broker's file, so a change committed through a store
 * wakes that store's subscribers at once (the SSF transmitter pushes without waiting for a poll);
 * a change another process wrote (here: a second store on the file) arrives at the next poll or the
 * next wake-up, read from each subscriber's cursor. The poll is a minute: a fast arrival is the wake.
 */
let dir: string;
let a: SqliteStore;
let other: SqliteStore;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mandate-hub-'));
  a = await createSqliteStore({ path: join(dir, 'store.db') });
  other = await createSqliteStore({ path: join(dir, 'store.db') });
});
after(async () => {
  await Promise.all([a.close(), other.close()]);
  await rm(dir, { recursive: true, force: true });
});

async function until(check: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!check() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
  return check();
}

test('a publish or a committed revocation wakes every subscriber of the store at once; another writer\'s change is read from the cursor later', async () => {
  const got: string[][] = [[], []];
  let wakes = 0;
  const subscriptions = got.map((list) => a.changes.subscribe!((change) => void list.push(change.key), { pollIntervalMs: 60_000, onWake: () => void wakes++ }));
  try {
    await new Promise((resolve) => setTimeout(resolve, 50)); // each subscription has read its starting cursor
    await a.changes.publish('key.rotated', 'k1', 1);
    assert.equal(wakes, 2, 'onWake ran for both subscribers before publish resolved, ahead of their reads');
    assert.ok(await until(() => got.every((l) => l.includes('k1')), 1_000), 'the publish woke both subscribers');
    await other.changes.publish('key.rotated', 'from-elsewhere', 2);
    assert.equal(await until(() => got.some((l) => l.includes('from-elsewhere')), 300), false, 'another writer is only seen by polling');
    await a.humans.insert(aHuman(1));
    await a.agents.insert(anAgent(1, ['usr_1']));
    await a.credentials.insert(aCredential('jti-x', 'agt_1', null));
    const revocation = { credentials: { jti: 'jti-x' }, change: { topic: 'token.revoked', key: 'jti-x', at: 3 } };
    const append = { chain: 'main', time: 3, seal: () => 'sealed' };
    assert.equal((await a.changes.commitRevocation!(revocation, append, () => [{ type: 'token.revoked', actor: 'agt_1', jti: 'jti-x' }])).outcome.applied, true);
    assert.ok(await until(() => got.every((l) => l.includes('jti-x')), 1_000), 'the committed revocation woke both subscribers');
    assert.equal((await a.changes.commitRevocation!(revocation, append, () => [])).outcome.applied, false, 'revoked already: nothing committed');
    assert.deepEqual(got, [['k1', 'from-elsewhere', 'jti-x'], ['k1', 'from-elsewhere', 'jti-x']], "in cursor order, the other writer's change included");
  } finally {
    await Promise.all(subscriptions.map((s) => s.close()));
  }
});
