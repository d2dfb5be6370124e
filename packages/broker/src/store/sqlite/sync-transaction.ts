import type Sqlite from 'better-sqlite3';
import type { Compilable, CompiledQuery } from 'kysely';
import { rejectEach, turnBatcher } from '../turn-batcher.ts';
import { prepareCached, type SqliteHandle } from './open.ts';

/** A Kysely query, or one compiled already (store/prepared.ts). */
export type SyncQuery<R> = Compilable<R> | CompiledQuery<R>;

/** Runs Kysely-built queries synchronously inside a transaction. */
export interface SyncQueries {
  all<R>(query: SyncQuery<R>): R[];
  first<R>(query: SyncQuery<R>): R | undefined;
  /** Runs a statement that returns no rows; returns the number of rows changed. */
  run(query: SyncQuery<unknown>): number;
  /**
   * Runs `finish` once, after every work of the batch and before its commit, inside the
   * transaction: of several calls with one `key`, the last one's `finish` runs (a work that failed
   * takes its own registration back). A throw fails the whole batch: every caller of it, whatever
   * its work, sees that error and nothing of the batch is stored. For a write whose last state is
   * all that matters (the sealed audit head).
   */
  atCommit(key: string, finish: () => void): void;
}

interface Pending {
  work: (q: SyncQueries) => unknown;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

interface Outcome {
  pending: Pending;
  ok: boolean;
  value: unknown;
}

/** Enough to amortise one fsync over a burst of requests, small enough to keep a commit short. */
const MAX_BATCH = 256;
const batchers = new WeakMap<SqliteHandle, (pending: Pending) => void>();

/**
 * Runs `work` atomically and resolves only once its effects are committed and durable (group
 * commit).
 *
 * Works arriving in the same event-loop turn share one `BEGIN IMMEDIATE` transaction, and so one
 * durable commit. Each work runs in its own savepoint: if it throws, only its own writes are rolled
 * back and only its caller sees the error. If the commit itself fails, every caller of the batch
 * sees that failure and nothing of the batch is stored (if its flush fails, it may be; see below).
 * No caller learns its result before the commit is durable: a token can never leave before its
 * audit row.
 *
 * Durability without blocking the event loop (store opened with `synchronous = FULL` on a file):
 * the batch commits with `synchronous = NORMAL` (SQLite writes the WAL frames but does not flush
 * them), then `handle.syncWal` flushes the WAL on the thread pool, and only then do the callers
 * learn their results. That is what FULL does at each commit, minus the wait on the event loop.
 * While the flush runs, the next works queue and then share the next commit (one batch at a time).
 * Reads in the meantime may see rows whose flush is still running; nothing that depends on them
 * being durable is answered before it is, and a later commit is durable only after them (the WAL
 * is replayed in order). A failed flush leaves it unknown what the disk holds (the kernel may have
 * dropped the pages, and a later flush could still succeed), so the connection is closed: every
 * caller of that batch and of every later one gets the error, every other read and write of the
 * store fails, and `/readyz` reports the store unreachable, until the process restarts and SQLite
 * recovers from what the disk holds (fail-stop, as PostgreSQL stops on a failed fsync).
 *
 * Why synchronous and not an async Kysely transaction: better-sqlite3 waits out `busy_timeout`
 * synchronously. If connection A held the write lock across an `await`, connection B of the same
 * process would block the whole event loop waiting for it, A could never commit, and B would fail
 * with SQLITE_BUSY. A batch goes from BEGIN to COMMIT within one turn; other processes still queue
 * on the lock through `busy_timeout`. The Kysely connection is held meanwhile so no Kysely
 * transaction of this connection, and no Kysely write (which commits with the connection's own
 * `synchronous = FULL`), can run while the setting is NORMAL.
 */
export function transactImmediate<T>(handle: SqliteHandle, work: (q: SyncQueries) => T): Promise<T> {
  let enqueue = batchers.get(handle);
  if (!enqueue) {
    enqueue = createBatcher(handle);
    batchers.set(handle, enqueue);
  }
  return new Promise<T>((resolve, reject) => enqueue({ work, resolve: resolve as (value: unknown) => void, reject }));
}

function createBatcher(handle: SqliteHandle): (pending: Pending) => void {
  const finishers = new Map<string, () => void>();
  const queries = syncQueries(handle.raw, finishers);
  let flushFailure: Error | null = null;
  return turnBatcher<Pending>(MAX_BATCH, async (batch) => {
    let outcomes: Outcome[];
    try {
      if (flushFailure) throw flushFailure;
      const { syncWal } = handle;
      outcomes = await handle.db.connection().execute(async () => {
        // A pragma takes effect when prepared, so it is executed anew each time, never cached.
        if (syncWal) handle.raw.exec('PRAGMA synchronous = NORMAL');
        try {
          return handle.raw.transaction(() => {
            finishers.clear();
            const done = batch.map((p) => runOne(handle.raw, queries, finishers, p));
            for (const finish of finishers.values()) finish();
            return done;
          }).immediate();
        } finally {
          if (syncWal) handle.raw.exec('PRAGMA synchronous = FULL');
        }
      });
      if (syncWal) await syncWal().catch((error: unknown) => {
        flushFailure = new Error(`the store could not make a commit durable and has closed; restart the broker: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
        // After a failed flush the kernel may have dropped the pages, and a later flush can still
        // succeed: nothing the connection holds can be trusted. Closed, it serves no read or write.
        handle.raw.close();
        throw flushFailure;
      });
    } catch (error) {
      for (const pending of batch) pending.reject(error);
      return;
    }
    for (const { pending, ok, value } of outcomes) (ok ? pending.resolve : pending.reject)(value);
  }, { oneAtATime: true, failed: rejectEach });
}

/**
 * One work in its own savepoint (better-sqlite3 nests transactions as savepoints). A work that
 * throws has its writes rolled back, and its `atCommit` registrations with them: the finishers
 * registered before it are put back.
 */
function runOne(raw: Sqlite.Database, queries: SyncQueries, finishers: Map<string, () => void>, pending: Pending): Outcome {
  const before = finishers.size > 0 ? new Map(finishers) : null;
  try {
    return { pending, ok: true, value: raw.transaction(() => pending.work(queries))() };
  } catch (error) {
    finishers.clear();
    for (const [key, finish] of before ?? []) finishers.set(key, finish);
    // SQLite ends the whole transaction on some errors (SQLITE_FULL, IOERR, NOMEM): the works before
    // are gone and the ones after would each commit alone. Abort the batch: every caller fails.
    if (!raw.inTransaction) throw error;
    return { pending, ok: false, value: error };
  }
}

/** Prepared statements come from the connection's cache (see open.ts). */
function syncQueries(raw: Sqlite.Database, finishers: Map<string, () => void>): SyncQueries {
  const statement = (query: SyncQuery<unknown>) => {
    const { sql, parameters } = 'compile' in query ? query.compile() : query;
    return { stmt: prepareCached(raw, sql), params: parameters as unknown[] };
  };
  return {
    all: <R>(query: SyncQuery<R>) => {
      const { stmt, params } = statement(query);
      return stmt.all(params) as R[];
    },
    first: <R>(query: SyncQuery<R>) => {
      const { stmt, params } = statement(query);
      return stmt.get(params) as R | undefined;
    },
    run: (query) => {
      const { stmt, params } = statement(query);
      return stmt.run(params).changes;
    },
    atCommit: (key, finish) => {
      finishers.delete(key);
      finishers.set(key, finish);
    },
  };
}
