import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readlinkSync, rmSync, symlinkSync } from 'node:fs';
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

/** Replaces the store's WAL flush by one the test releases (or fails) by hand; counts the calls. */
function heldFlush() {
  const calls: Array<{ release: () => void; fail: (error: Error) => void }> = [];
  store.raw.syncWal = () => new Promise<void>((release, fail) => calls.push({ release, fail }));
  return calls;
}
/** Lets the event loop run until `done` holds (bounded). */
const until = async (done: () => boolean) => {
  for (let turn = 0; turn < 200 && !done(); turn++) await new Promise((resolve) => setImmediate(resolve));
  assert.ok(done(), 'condition not reached within 200 turns');
};
const settledYet = async (promise: Promise<unknown>) => {
  let settled = false;
  void promise.then(() => (settled = true), () => (settled = true));
  await new Promise((resolve) => setImmediate(resolve));
  await new Promise((resolve) => setImmediate(resolve));
  return settled;
};

describe('group commit: the WAL flush off the event loop', () => {
  test('a store on a file with synchronous FULL flushes its WAL; NORMAL and in-memory stores have nothing to flush', async () => {
    assert.equal(typeof store.raw.syncWal, 'function');
    const normal = await createSqliteStore({ path: join(dir, 'normal.db'), synchronous: 'NORMAL' });
    const memory = await createSqliteStore({ path: ':memory:' });
    try {
      assert.equal(normal.raw.syncWal, null);
      assert.equal(memory.raw.syncWal, null);
    } finally {
      await normal.close();
      await memory.close();
    }
    await store.raw.syncWal!();
  });

  test('the flush keeps the one descriptor of the WAL it opened at start, and the store closes it', async () => {
    const walDescriptors = () => readdirSync('/proc/self/fd').filter((fd) => {
      try {
        return readlinkSync(`/proc/self/fd/${fd}`) === join(dir, 'm.db-wal');
      } catch {
        return false;
      }
    }).length;
    const before = walDescriptors();
    for (let i = 0; i < 20; i++) await transactImmediate(store.raw, (q) => q.run(insertReplay(`f${i}`)));
    assert.equal(walDescriptors(), before, 'the flush uses the descriptor opened at start, never one per flush');
    await store.close();
    await other.close();
    assert.equal(walDescriptors(), 0);
    store = await createSqliteStore({ path: join(dir, 'm.db') });
    other = await createSqliteStore({ path: join(dir, 'm.db') });
  });

  test('callers learn their results only after the flush; works arriving meanwhile share the next commit', async () => {
    const flushes = heldFlush();
    const first = transactImmediate(store.raw, (q) => q.run(insertReplay('a')));
    await until(() => flushes.length === 1);
    const later = ['b', 'c', 'd'].map((id) => transactImmediate(store.raw, (q) => q.run(insertReplay(id))));
    assert.equal(await settledYet(first), false, 'committed but not flushed: the caller does not know yet');
    assert.equal(transactions, 1, 'no second commit while the first flush runs');
    flushes[0]!.release();
    assert.equal(await first, 1);
    await until(() => flushes.length === 2);
    assert.equal(transactions, 2, 'the three works that waited share one commit');
    assert.equal(await settledYet(Promise.all(later)), false);
    flushes[1]!.release();
    assert.deepEqual(await Promise.all(later), [1, 1, 1]);
    assert.deepEqual(await storedIds(), ['a', 'b', 'c', 'd']);
  });

  test('the connection commits its batches with synchronous NORMAL and is back at FULL for every other write', async () => {
    const seen: number[] = [];
    await transactImmediate(store.raw, (q) => {
      seen.push(store.raw.raw.pragma('synchronous', { simple: true }) as number);
      return q.run(insertReplay('a'));
    });
    assert.deepEqual(seen, [1], 'NORMAL inside the batch');
    assert.equal(store.raw.raw.pragma('synchronous', { simple: true }), 2, 'FULL outside it');
  });

  test('a failed flush fails every caller of its batch and every later one, without running their works, and closes the store', async () => {
    const flushes = heldFlush();
    const batch = ['a', 'b'].map((id) => transactImmediate(store.raw, (q) => q.run(insertReplay(id))));
    await until(() => flushes.length === 1);
    flushes[0]!.fail(Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' }));
    const outcomes = await Promise.allSettled(batch);
    assert.deepEqual(outcomes.map((o) => o.status), ['rejected', 'rejected']);
    assert.match(String((outcomes[0] as PromiseRejectedResult).reason), /could not make a commit durable.*EIO/);
    let ran = false;
    await assert.rejects(transactImmediate(store.raw, (q) => { ran = true; return q.run(insertReplay('c')); }), /could not make a commit durable/);
    assert.equal(ran, false, 'the store refuses writes through the group commit until restart');
    assert.equal(flushes.length, 1);
    assert.equal(store.raw.raw.open, false, 'the connection is closed: no read or write sees what the disk may not hold');
    await assert.rejects(store.raw.db.selectFrom('replay_cache').select('id').execute(), /not open/);
    await assert.rejects(store.agents.setStatus('agt_x', 'suspended', ['active']), /not open/);
  });

  test('a database reached through a symbolic link flushes the WAL SQLite writes (next to the file linked to)', async () => {
    const linked = join(dir, 'linked.db');
    symlinkSync(join(dir, 'm.db'), linked);
    const viaLink = await createSqliteStore({ path: linked });
    try {
      const wal = join(dir, 'm.db-wal');
      const flushed = () => readdirSync('/proc/self/fd').filter((fd) => {
        try {
          return readlinkSync(`/proc/self/fd/${fd}`) === wal;
        } catch {
          return false;
        }
      }).length;
      const before = flushed();
      assert.equal(await transactImmediate(viaLink.raw, (q) => q.run(viaLink.raw.db.insertInto('replay_cache').values({ namespace: 'gc', id: 'via-link', expires_at: 10 }))), 1);
      assert.ok(before >= 1, 'the flush descriptor names the real WAL');
      assert.equal(flushed(), before);
      assert.deepEqual(await storedIds(), ['via-link']);
    } finally {
      await viaLink.close();
    }
  });
});
