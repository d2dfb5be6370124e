import type { Kysely } from 'kysely';
import type { ReplayCache } from '../../ports/replay-cache.ts';
import type { Database } from '../schema.ts';
import type { BatchedStatement } from './group-commit.ts';

/**
 * The check-and-insert of `rows` (distinct ids) in one statement; returns the ids that are new (or
 * took over an expired entry). Also run inside the mint's batch (issue-commit.ts).
 */
export async function recordIds(trx: Kysely<Database>, rows: Array<{ namespace: string; id: string; expires_at: number }>, now: number) {
  return trx
    .insertInto('replay_cache')
    .values(rows)
    .onConflict((oc) =>
      oc
        .columns(['namespace', 'id'])
        .doUpdateSet({ expires_at: (eb) => eb.ref('excluded.expires_at') })
        .where('replay_cache.expires_at', '<=', now),
    )
    .returning(['namespace', 'id'])
    .execute();
}

/**
 * One `INSERT … ON CONFLICT DO UPDATE … WHERE` statement: of concurrent inserts of one id,
 * PostgreSQL lets one insert and makes the others wait for it and then re-check the WHERE on the
 * committed row, so exactly one caller sees a new id (or a takeover of an expired one). Inserts
 * go through the group commit (`group-commit.ts`).
 */
export function createPostgresReplayCache(db: Kysely<Database>, batch: <T>(statement: BatchedStatement<T>) => Promise<T>): ReplayCache {
  return {
    checkAndInsert: (namespace, id, expiresAt, now) => batch({ order: `0:${namespace}:${id}`, run: async (trx) =>
      (await recordIds(trx, [{ namespace, id, expires_at: expiresAt }], now)).length === 1 }),
    // Not coalesced (coalesced-reads.ts), unlike the mint's other reads: coalesced (`id = any($2)`),
    // it raised PostgreSQL's share of a mint's CPU from about a fifth to over a third in the replica
    // benchmark (bench/README.md); most likely a generic plan made while the table was small.
    async seen(namespace, id, now) {
      const row = await db.selectFrom('replay_cache').select('id').where('namespace', '=', namespace).where('id', '=', id).where('expires_at', '>', now).executeTakeFirst();
      return row !== undefined;
    },
    async purgeExpired(now) {
      const result = await db.deleteFrom('replay_cache').where('expires_at', '<=', now).executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}
