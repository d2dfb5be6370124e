import type { Kysely } from 'kysely';
import type { UseCounters } from '../../ports/use-counters.ts';
import type { Database } from '../schema.ts';

export function createSqliteUseCounters(db: Kysely<Database>): UseCounters {
  return {
    async create(key, total) {
      if (!Number.isSafeInteger(total) || total < 0) throw new RangeError('total must be a non-negative integer');
      // The primary key makes a second create fail instead of resetting a counter in use.
      await db.insertInto('use_counters').values({ key, total, remaining: total }).execute();
    },
    /** Check and decrement in one conditional statement: concurrent takers can never overdraw. */
    async take(key) {
      const row = await db
        .updateTable('use_counters')
        .set((eb) => ({ remaining: eb('remaining', '-', 1) }))
        .where('key', '=', key)
        .where('remaining', '>', 0)
        .returning('remaining')
        .executeTakeFirst();
      return row?.remaining ?? null;
    },
    async release(key) {
      const result = await db
        .updateTable('use_counters')
        .set((eb) => ({ remaining: eb('remaining', '+', 1) }))
        .where('key', '=', key)
        .whereRef('remaining', '<', 'total')
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },
    async remaining(key) {
      const row = await db.selectFrom('use_counters').select('remaining').where('key', '=', key).executeTakeFirst();
      return row?.remaining ?? null;
    },
  };
}
