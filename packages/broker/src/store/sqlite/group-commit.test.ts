import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { createSqliteStore, type SqliteStore } from './index.ts';
import { transactImmediate } from './sync-transaction.ts';

let dir: string;
let store: SqliteStore;
let other: SqliteStore;
/** How many `BEGIN IMMEDIATE` transactions the store's connection ran. */
let transactions = 0;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'mandate-group-commit-'));
  store = await createSqliteStore({ path: join(dir, 'm.db') });
  other = await createSqliteStore({ path: join(dir, 'm.db') });
  transactions = 0;
  const raw = store.raw.raw;
  const original = raw.transaction.bind(raw);
  raw.transaction = ((fn: (...args: unknown[]) => unknown) => {
    const wrapped = original(fn);
    const counted = (...args: unknown[]) => wrapped(...args);
    return Object.assign(counted, { immediate: (...args: unknown[]) => (transactions++, wrapped.immediate(...args)) });
  }) as typeof raw.transaction;
});
afterEach(async () => {
  await store.close();
  await other.close();
  rmSync(dir, { recursive: true, force: true });
});

const insertReplay = (id: string) => store.raw.db.insertInto('replay_cache').values({ namespace: 'gc', id, expires_at: 10 });
const storedIds = async () => (await other.raw.db.selectFrom('replay_cache').select('id').where('namespace', '=', 'gc').orderBy('id').execute()).map((r) => r.id);

describe('group commit (transactImmediate)', () => {
  test('works of one turn share one transaction; none resolves before the commit', async () => {
    const seenInside: boolean[] = [];
    const results = await Promise.all(
      ['a', 'b', 'c'].map((id) =>
        transactImmediate(store.raw, (q) => {
          seenInside.push(store.raw.raw.inTransaction);
          return q.run(insertReplay(id));
        }).then((changes) => ({ changes, inTransactionAtResolve: store.raw.raw.inTransaction })),
      ),
    );
    assert.equal(transactions, 1);
    assert.deepEqual(seenInside, [true, true, true]);
    assert.deepEqual(results, Array(3).fill({ changes: 1, inTransactionAtResolve: false }));
    assert.deepEqual(await storedIds(), ['a', 'b', 'c']);
  });

  test('the hot-path ports share the commit: replay inserts and a use counter in one transaction', async () => {
    await store.counters.create('m1', 2);
    transactions = 0;
    const [first, second, left] = await Promise.all([
      store.replay.checkAndInsert('dpop', 'j1', 1000, 0),
      store.replay.checkAndInsert('client-assertion', 'j1', 1000, 0),
      store.counters.take('m1'),
    ]);
    assert.deepEqual([first, second, left, transactions], [true, true, 1, 1]);
  });

  test('a work that throws rolls back only its own writes; the others commit', async () => {
    const outcomes = await Promise.allSettled([
      transactImmediate(store.raw, (q) => q.run(insertReplay('kept-1'))),
      transactImmediate(store.raw, (q) => {
        q.run(insertReplay('dropped'));
        throw new Error('work failed');
      }),
      transactImmediate(store.raw, (q) => q.run(insertReplay('kept-2'))),
    ]);
    assert.deepEqual(outcomes.map((o) => o.status), ['fulfilled', 'rejected', 'fulfilled']);
    assert.equal((outcomes[1] as PromiseRejectedResult).reason.message, 'work failed');
    assert.deepEqual(await storedIds(), ['kept-1', 'kept-2']);
  });

  test('a work whose error ends the whole transaction (SQLITE_FULL) fails the batch: nothing of it is stored', async () => {
    const raw = store.raw.raw;
    const pages = Number(raw.pragma('page_count', { simple: true }));
    raw.pragma(`max_page_count = ${pages + 2}`);
    try {
      const outcomes = await Promise.allSettled([
        transactImmediate(store.raw, (q) => q.run(insertReplay('before'))),
        transactImmediate(store.raw, (q) => q.run(store.raw.db.insertInto('replay_cache').values({ namespace: 'gc', id: 'x'.repeat(200_000), expires_at: 10 }))),
        transactImmediate(store.raw, (q) => q.run(insertReplay('after'))),
      ]);
      assert.deepEqual(outcomes.map((o) => o.status), ['rejected', 'rejected', 'rejected']);
      assert.match(String((outcomes[0] as PromiseRejectedResult).reason), /full/i);
    } finally {
      raw.pragma('max_page_count = 1073741823');
    }
    assert.deepEqual(await storedIds(), []);
  });

  test('a failed commit fails every work of the batch and stores none of it', async () => {
    // A deferred foreign-key violation passes every statement and fails only at COMMIT.
    const outcomes = await Promise.allSettled([
      transactImmediate(store.raw, (q) => q.run(insertReplay('x'))),
      transactImmediate(store.raw, (q) => {
        q.run(store.raw.db.updateTable('replay_cache').set({ expires_at: 11 }).where('id', '=', 'none'));
        store.raw.raw.pragma('defer_foreign_keys = ON');
        return q.run(
          store.raw.db.insertInto('credentials').values({
            jti: 'orphan', mandate_id: 'mdt_missing', agent_id: 'agt_missing', subject: 's', audience: 'a', jkt: 'k', issued_at: 1, expires_at: 2, revoked_at: null,
          }),
        );
      }),
      transactImmediate(store.raw, (q) => q.run(insertReplay('y'))),
    ]);
    assert.deepEqual(outcomes.map((o) => o.status), ['rejected', 'rejected', 'rejected']);
    assert.match(String((outcomes[0] as PromiseRejectedResult).reason), /FOREIGN KEY/);
    assert.deepEqual(await storedIds(), []);
    assert.equal(await store.replay.checkAndInsert('gc', 'x', 10, 0), true, 'the connection works again after the failed batch');
  });
  test('atCommit: the last registration per key runs once before the commit; a failed work takes its own back', async () => {
    const ran: string[] = [];
    const register = (name: string, fail: boolean) => transactImmediate(store.raw, (q) => {
      q.run(insertReplay(name));
      q.atCommit('head', () => ran.push(name));
      if (fail) throw new Error(`work ${name} failed`);
      return name;
    });
    const outcomes = await Promise.allSettled([register('a', false), register('b', false), register('c', true)]);
    assert.deepEqual(outcomes.map((o) => o.status), ['fulfilled', 'fulfilled', 'rejected']);
    assert.equal(transactions, 1);
    assert.deepEqual(ran, ['b'], 'c failed and was rolled back: the finisher of b, registered before it, runs');
    assert.deepEqual(await storedIds(), ['a', 'b']);
  });

  test('atCommit: a finisher that throws fails every work of the batch, and nothing of it is stored', async () => {
    const outcomes = await Promise.allSettled([
      transactImmediate(store.raw, (q) => q.run(insertReplay('x'))),
      transactImmediate(store.raw, (q) => {
        q.run(insertReplay('y'));
        q.atCommit('head', () => { throw new Error('signer down'); });
      }),
    ]);
    assert.deepEqual(outcomes.map((o) => (o.status === 'rejected' ? (o.reason as Error).message : 'ok')), ['signer down', 'signer down']);
    assert.deepEqual(await storedIds(), []);
  });
});
