import type { Kysely } from 'kysely';
import type { SqliteHandle } from '../sqlite/open.ts';
import type { Database } from '../schema.ts';

/**
 * Several SQLite adapters are plain Kysely (no SQLite-only SQL) and run unchanged on PostgreSQL
 * through Kysely's dialect seam; only their writes that need a lock differ, and the PostgreSQL
 * adapters override exactly those. This hands such an adapter the PostgreSQL Kysely instance and a
 * `raw` connection that throws on any use: a method left on the SQLite-only path (the synchronous
 * group commit) fails loudly in the conformance suite instead of silently touching SQLite.
 */
export function kyselyOnlyHandle(db: Kysely<Database>): SqliteHandle {
  const refuse = (_: object, property: string | symbol): never => {
    throw new Error(`a SQLite-only path (raw.${String(property)}) was reached from the PostgreSQL store`);
  };
  return { db, raw: new Proxy({}, { get: refuse }) as SqliteHandle['raw'], syncWal: null };
}
