import type { CompiledQuery, Kysely } from 'kysely';
import { prepared } from '../prepared.ts';
import type { StatusListRepository, StatusListSlot } from '../../ports/status-lists.ts';
import type { Database } from '../schema.ts';
import type { SqliteHandle } from './open.ts';
import { transactImmediate } from './sync-transaction.ts';

/**
 * One statement: the insert wins, or a row that became reusable is taken over, or nothing changes
 * (1 row changed = claimed). Shared with the mint's one-transaction commit (credentials.ts).
 */
export function claimStatement(db: Kysely<Database>): (args: { slot: StatusListSlot; now: number }) => CompiledQuery {
  const claim = prepared<{ listId: string; idx: number; jti: string; reusableAt: number; now: number }>((p) =>
    db
      .insertInto('status_list_slots')
      .values({ list_id: p('listId'), idx: p('idx'), jti: p('jti'), reusable_at: p('reusableAt') })
      .onConflict((oc) =>
        oc
          .columns(['list_id', 'idx'])
          .doUpdateSet({ jti: (eb) => eb.ref('excluded.jti'), reusable_at: (eb) => eb.ref('excluded.reusable_at') })
          .where('status_list_slots.reusable_at', '<=', p('now')),
      ));
  return ({ slot, now }) => claim({ ...slot, now });
}

/** Claims go through the group commit, like the other writes on the mint path. */
export function createSqliteStatusLists(handle: SqliteHandle): StatusListRepository {
  const { db } = handle;
  const claim = claimStatement(db);
  return {
    async ensureList(id, size, now) {
      await db.insertInto('status_lists').values({ id, size, created_at: now }).onConflict((oc) => oc.column('id').doNothing()).execute();
    },
    async lists() {
      return db.selectFrom('status_lists').select(['id', 'size']).orderBy('created_at').orderBy('id').execute();
    },
    /** One statement: the insert wins, or a row that became reusable is taken over, or nothing changes. */
    async claim(slot, now) {
      const query = claim({ slot, now });
      return (await transactImmediate(handle, (q) => q.run(query))) === 1;
    },
    async slotOf(jti) {
      const row = await db.selectFrom('status_list_slots').selectAll().where('jti', '=', jti).executeTakeFirst();
      return row ? { listId: row.list_id, idx: row.idx, jti: row.jti, reusableAt: row.reusable_at } : null;
    },
    async revokedIndexes(listId, now) {
      const rows = await db
        .selectFrom('status_list_slots as s')
        .innerJoin('credentials as c', 'c.jti', 's.jti')
        .select('s.idx')
        .where('s.list_id', '=', listId)
        .where('s.reusable_at', '>', now)
        .where('c.revoked_at', 'is not', null)
        .orderBy('s.idx')
        .execute();
      return rows.map((row) => row.idx);
    },
    async holdersOfAgent(agentId, now) {
      const rows = await db
        .selectFrom('status_list_slots as s')
        .innerJoin('credentials as c', 'c.jti', 's.jti')
        .select(['c.jti', 'c.audience', 'c.mandate_id', 'c.revoked_at'])
        .where('c.agent_id', '=', agentId)
        .where('s.reusable_at', '>', now)
        .orderBy('c.jti')
        .execute();
      return rows.map((row) => ({ jti: row.jti, audience: row.audience, mandateId: row.mandate_id, revoked: row.revoked_at !== null }));
    },
  };
}
