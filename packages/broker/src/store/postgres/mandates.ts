import { sql, type Kysely } from 'kysely';
import type { CarvedUses, MandateRepository } from '../../ports/mandates.ts';
import type { Database } from '../schema.ts';
import { transitionStatement } from '../mandate-rows.ts';
import { createSqliteMandates, mandateFromRow } from '../sqlite/mandates.ts';
import { coalescedReads } from './coalesced-reads.ts';
import { kyselyOnlyHandle } from './shared-adapters.ts';

type Trx = Kysely<Database>;

/**
 * Reads and `insert` are the shared plain-Kysely ones, but `getByGrantHash` (every mint) is
 * coalesced per event-loop turn (coalesced-reads.ts). `transition` is one conditional UPDATE
 * (PostgreSQL re-checks `status IN (…)` on the row a concurrent winner committed, so exactly one
 * of them changes it); `recordPoll` reads the row `FOR UPDATE`, so polls queue on its lock;
 * `insertChild` carves, inserts and counts in one transaction.
 */
export function createPostgresMandates(db: Kysely<Database>): MandateRepository {
  const shared = createSqliteMandates(kyselyOnlyHandle(db));
  const byGrantHash = coalescedReads((hashes) => db.selectFrom('mandates').selectAll().where('grant_hash', '=', sql<string>`any(${hashes}::text[])`).execute(), (row) => row.grant_hash ?? '');
  return {
    ...shared,
    getByGrantHash: async (hash) => {
      const [row] = await byGrantHash(hash);
      return row ? mandateFromRow(row) : null;
    },
    async transition(id, from, patch) {
      if (from.length === 0) return false;
      const result = await transitionStatement(db, id, from, patch).executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },
    recordPoll: (id, at, slowDownSeconds) =>
      db.transaction().execute(async (trx) => {
        const row = await trx.selectFrom('mandates').select(['interval', 'last_polled_at']).where('id', '=', id).forUpdate().executeTakeFirst();
        if (!row) throw new Error(`unknown mandate ${id}`);
        const slowDown = row.last_polled_at !== null && at - row.last_polled_at < row.interval * 1000;
        const interval = slowDown ? row.interval + slowDownSeconds : row.interval;
        await trx.updateTable('mandates').set({ interval, last_polled_at: at }).where('id', '=', id).execute();
        return { slowDown, interval };
      }),
    insertChild: (child, uses) =>
      db.transaction().execute(async (trx) => {
        if (!child.hop) throw new Error('insertChild needs a mandate with a hop');
        if (uses && !(await carve(trx, uses))) return false;
        // The shared insert, on the transaction: the row mapping stays in one place.
        await createSqliteMandates(kyselyOnlyHandle(trx)).insert(child);
        if (uses) await trx.insertInto('use_counters').values({ key: child.id, total: uses.count, remaining: uses.count }).execute();
        return true;
      }),
  };
}

/** Takes `count` uses from the parent's counter only if that many remain: one conditional UPDATE. */
async function carve(trx: Trx, uses: CarvedUses): Promise<boolean> {
  if (uses.carveFrom === null) return true;
  const result = await trx
    .updateTable('use_counters')
    .set((eb) => ({ remaining: eb('remaining', '-', uses.count) }))
    .where('key', '=', uses.carveFrom)
    .where('remaining', '>=', uses.count)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}
