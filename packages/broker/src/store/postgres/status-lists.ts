import type { Kysely } from 'kysely';
import type { StatusListRepository } from '../../ports/status-lists.ts';
import type { Database } from '../schema.ts';
import { createSqliteStatusLists } from '../sqlite/status-lists.ts';
import { kyselyOnlyHandle } from './shared-adapters.ts';

/** `claim` is one `INSERT … ON CONFLICT DO UPDATE … WHERE`: of concurrent claims of one index, one wins. */
export function createPostgresStatusLists(db: Kysely<Database>): StatusListRepository {
  return {
    ...createSqliteStatusLists(kyselyOnlyHandle(db)),
    async claim(slot, now) {
      const result = await db
        .insertInto('status_list_slots')
        .values({ list_id: slot.listId, idx: slot.idx, jti: slot.jti, reusable_at: slot.reusableAt })
        .onConflict((oc) =>
          oc
            .columns(['list_id', 'idx'])
            .doUpdateSet({ jti: (eb) => eb.ref('excluded.jti'), reusable_at: (eb) => eb.ref('excluded.reusable_at') })
            .where('status_list_slots.reusable_at', '<=', now),
        )
        .executeTakeFirst();
      return Number(result.numInsertedOrUpdatedRows ?? 0n) === 1;
    },
  };
}
