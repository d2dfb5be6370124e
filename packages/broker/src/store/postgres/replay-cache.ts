import { sql, type Kysely } from 'kysely';
import type { ReplayCache } from '../../ports/replay-cache.ts';
import type { Database } from '../schema.ts';
import { coalescedReads } from './coalesced-reads.ts';
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
 * go through the group commit (`group-commit.ts`); `seen` (a client assertion's early replay check)
 * is coalesced per event-loop turn (coalesced-reads.ts), each caller judging expiry at its own `now`.
 */
export function createPostgresReplayCache(db: Kysely<Database>, batch: <T>(statement: BatchedStatement<T>) => Promise<T>): ReplayCache {
  // The separator is one PostgreSQL can hold (a NUL would make coalescedReads answer every key with nothing).
  const keyOf = (namespace: string, id: string) => `${namespace}\u0001${id}`;
  const entries = coalescedReads(async (keys) => {
    // Namespaces are the broker's own names, never with a U+0001: the first one ends the namespace.
    const byNamespace = new Map<string, string[]>();
    for (const key of keys) {
      const cut = key.indexOf('\u0001');
      const namespace = key.slice(0, cut);
      const ids = byNamespace.get(namespace) ?? [];
      ids.push(key.slice(cut + 1));
      byNamespace.set(namespace, ids);
    }
    // One statement per namespace (a turn's reads are nearly always of one): `id = any($2)` is an
    // index scan of the primary key whatever the plan, where a join on unnest() can be planned as
    // a scan of the whole table.
    const rows = await Promise.all([...byNamespace].map(([namespace, ids]) =>
      db.selectFrom('replay_cache').select(['namespace', 'id', 'expires_at']).where('namespace', '=', namespace).where('id', '=', sql<string>`any(${ids}::text[])`).execute()));
    return rows.flat();
  }, (row) => keyOf(row.namespace, row.id));
  return {
    checkAndInsert: (namespace, id, expiresAt, now) => batch({ order: `0:${namespace}:${id}`, run: async (trx) =>
      (await recordIds(trx, [{ namespace, id, expires_at: expiresAt }], now)).length === 1 }),
    seen: async (namespace, id, now) => (await entries(keyOf(namespace, id))).some((row) => row.expires_at > now),
    async purgeExpired(now) {
      const result = await db.deleteFrom('replay_cache').where('expires_at', '<=', now).executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}
