import type { ReplayCache } from '../../ports/replay-cache.ts';
import { prepared } from '../prepared.ts';
import type { SqliteHandle } from './open.ts';
import { transactImmediate } from './sync-transaction.ts';

/**
 * The check-and-insert of one id, compiled once. One statement, so two writers can never both see
 * an id as new: the insert wins, or the conflicting row is refreshed only if it had expired, or
 * nothing changes (a replay). One row changed means a new id. Also run inside the mint's commit.
 */
export function replayInsertStatement(db: SqliteHandle['db']) {
  return prepared<{ namespace: string; id: string; expiresAt: number; now: number }>((p) =>
    db
      .insertInto('replay_cache')
      .values({ namespace: p('namespace'), id: p('id'), expires_at: p('expiresAt') })
      .onConflict((oc) =>
        oc
          .columns(['namespace', 'id'])
          .doUpdateSet({ expires_at: (eb) => eb.ref('excluded.expires_at') })
          .where('replay_cache.expires_at', '<=', p('now')),
      ));
}

/** Inserts go through the group commit: the proofs of concurrent requests share one durable commit. */
export function createSqliteReplayCache(handle: SqliteHandle): ReplayCache {
  const { db } = handle;
  const insert = replayInsertStatement(db);
  const live = prepared<{ namespace: string; id: string; now: number }, { one: number }>((p) =>
    db.selectFrom('replay_cache').select((eb) => eb.lit(1).as('one')).where('namespace', '=', p('namespace')).where('id', '=', p('id')).where('expires_at', '>', p('now')));
  return {
    seen: async (namespace, id, now) => (await db.executeQuery(live({ namespace, id, now }))).rows.length > 0,
    async checkAndInsert(namespace, id, expiresAt, now) {
      const query = insert({ namespace, id, expiresAt, now });
      return (await transactImmediate(handle, (q) => q.run(query))) === 1;
    },
    async purgeExpired(now) {
      const result = await db.deleteFrom('replay_cache').where('expires_at', '<=', now).executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}
