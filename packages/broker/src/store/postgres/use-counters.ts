import type { Kysely } from 'kysely';
import type { UseCounters } from '../../ports/use-counters.ts';
import type { Database } from '../schema.ts';
import type { BatchedStatement } from './group-commit.ts';
import { createSqliteUseCounters } from '../sqlite/use-counters.ts';
import { kyselyOnlyHandle } from './shared-adapters.ts';

/**
 * `take` and `release` are single conditional UPDATEs: under READ COMMITTED a concurrent updater
 * of the same row waits for the first to commit and re-evaluates `remaining > 0` on the new row
 * version, so takers can never overdraw. Both go through the group commit (`group-commit.ts`).
 * `create` and `remaining` are the shared plain-Kysely ones.
 */
export function createPostgresUseCounters(db: Kysely<Database>, batch: <T>(statement: BatchedStatement<T>) => Promise<T>): UseCounters {
  return {
    ...createSqliteUseCounters(kyselyOnlyHandle(db)),
    take: (key) => batch({ order: `1:${key}`, run: async (trx) => {
      const row = await trx
        .updateTable('use_counters')
        .set((eb) => ({ remaining: eb('remaining', '-', 1) }))
        .where('key', '=', key)
        .where('remaining', '>', 0)
        .returning('remaining')
        .executeTakeFirst();
      return row?.remaining ?? null;
    } }),
    release: (key) => batch({ order: `1:${key}`, run: async (trx) => {
      const result = await trx
        .updateTable('use_counters')
        .set((eb) => ({ remaining: eb('remaining', '+', 1) }))
        .where('key', '=', key)
        .whereRef('remaining', '<', 'total')
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    } }),
  };
}
