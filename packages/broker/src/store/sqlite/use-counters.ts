import type { UseCounters } from '../../ports/use-counters.ts';
import type { SqliteHandle } from './open.ts';
import { transactImmediate } from './sync-transaction.ts';

/** Take and release go through the group commit (they sit on the mint path). */
export function createSqliteUseCounters(handle: SqliteHandle): UseCounters {
  const { db } = handle;
  return {
    async create(key, total) {
      if (!Number.isSafeInteger(total) || total < 0) throw new RangeError('total must be a non-negative integer');
      // The primary key makes a second create fail instead of resetting a counter in use.
      await db.insertInto('use_counters').values({ key, total, remaining: total }).execute();
    },
    /** Check and decrement in one conditional statement: concurrent takers can never overdraw. */
    async take(key) {
      const query = db
        .updateTable('use_counters')
        .set((eb) => ({ remaining: eb('remaining', '-', 1) }))
        .where('key', '=', key)
        .where('remaining', '>', 0)
        .returning('remaining');
      return (await transactImmediate(handle, (q) => q.first(query)))?.remaining ?? null;
    },
    async release(key) {
      const query = db
        .updateTable('use_counters')
        .set((eb) => ({ remaining: eb('remaining', '+', 1) }))
        .where('key', '=', key)
        .whereRef('remaining', '<', 'total');
      return (await transactImmediate(handle, (q) => q.run(query))) === 1;
    },
    async remaining(key) {
      const row = await db.selectFrom('use_counters').select('remaining').where('key', '=', key).executeTakeFirst();
      return row?.remaining ?? null;
    },
  };
}
