import type { Compilable } from 'kysely';
import type { SqliteHandle } from './open.ts';

/** Runs Kysely-built queries synchronously inside a transaction. */
export interface SyncQueries {
  all<R>(query: Compilable<R>): R[];
  first<R>(query: Compilable<R>): R | undefined;
  /** Runs a statement that returns no rows; returns the number of rows changed. */
  run(query: Compilable<unknown>): number;
}

/**
 * Runs `work` in one `BEGIN IMMEDIATE` transaction, start to commit within one event-loop turn.
 *
 * Why not an async Kysely transaction: better-sqlite3 waits out `busy_timeout` synchronously.
 * If connection A held the write lock across an `await`, connection B of the same process would
 * block the whole event loop waiting for it, A could never commit, and B would fail with
 * SQLITE_BUSY. A synchronous transaction never leaves the lock held across a turn; other
 * processes still queue on it through `busy_timeout`. The Kysely connection is held meanwhile so
 * no Kysely transaction of this connection can be open around it.
 */
export async function transactImmediate<T>(handle: SqliteHandle, work: (q: SyncQueries) => T): Promise<T> {
  const queries = syncQueries(handle);
  return handle.db.connection().execute(async () => handle.raw.transaction(() => work(queries)).immediate());
}

function syncQueries({ raw }: SqliteHandle): SyncQueries {
  const statement = (query: Compilable<unknown>) => {
    const { sql, parameters } = query.compile();
    return { stmt: raw.prepare(sql), params: parameters as unknown[] };
  };
  return {
    all: <R>(query: Compilable<R>) => {
      const { stmt, params } = statement(query);
      return stmt.all(params) as R[];
    },
    first: <R>(query: Compilable<R>) => {
      const { stmt, params } = statement(query);
      return stmt.get(params) as R | undefined;
    },
    run: (query) => {
      const { stmt, params } = statement(query);
      return stmt.run(params).changes;
    },
  };
}
