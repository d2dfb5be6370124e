import { sql, type Kysely } from 'kysely';
import type { ReplayCache } from '../../ports/replay-cache.ts';
import type { Database } from '../schema.ts';
import { coalescedReads } from './coalesced-reads.ts';
import type { BatchedStatement } from './group-commit.ts';

/** A single-use id as `replay_cache` holds it. */
export interface RecordedId {
  namespace: string;
  id: string;
  expires_at: number;
}

/**
 * The check-and-insert of `rows` (distinct ids, in key order) as one statement of fixed text
 * (arrays, not rows): returns the ids that are new (or took over an expired entry). Run alone by
 * `checkAndInsert`, and as the first part of the mint batch's first statement (issue-commit.ts).
 */
export function recordIdsStatement(rows: readonly RecordedId[], now: number) {
  return sql<{ namespace: string; id: string }>`
    insert into replay_cache (namespace, id, expires_at)
    select * from unnest(${rows.map((x) => x.namespace)}::text[], ${rows.map((x) => x.id)}::text[], ${rows.map((x) => x.expires_at)}::bigint[])
    on conflict (namespace, id) do update set expires_at = excluded.expires_at where replay_cache.expires_at <= ${now}
    returning namespace, id`;
}

interface SeenRow {
  id: string;
  expires_at: number;
}

/**
 * The recorded entries of `ids` in `namespace`, expired or not: one primary-key lookup per id,
 * whatever the table's statistics. Written as a lateral join that cannot be flattened (`limit 1`),
 * not as `id = any($2)`: a named statement's generic plan made while `replay_cache` was nearly
 * empty (a fresh database, before autovacuum's first analyze) kept the `any` out of the index
 * condition, so each read scanned every row of the namespace, which grows by one row per
 * mint (bench/README.md).
 */
export function recordedOf(namespace: string, ids: readonly string[]) {
  return sql<SeenRow>`
    select r.id, r.expires_at from unnest(${ids}::text[]) as k(id)
    cross join lateral (select id, expires_at from replay_cache where namespace = ${namespace} and id = k.id limit 1) as r`;
}

/**
 * One `INSERT … ON CONFLICT DO UPDATE … WHERE` statement: of concurrent inserts of one id,
 * PostgreSQL lets one insert and makes the others wait for it and then re-check the WHERE on the
 * committed row, so exactly one caller sees a new id (or a takeover of an expired one). Inserts
 * go through the group commit (`group-commit.ts`). `seen` is coalesced per namespace
 * (coalesced-reads.ts), expiry judged at each caller's time.
 */
export function createPostgresReplayCache(db: Kysely<Database>, batch: <T>(statement: BatchedStatement<T>) => Promise<T>): ReplayCache {
  const readers = new Map<string, (id: string) => Promise<SeenRow[]>>();
  const seenIn = (namespace: string) => {
    let read = readers.get(namespace);
    if (!read) {
      read = coalescedReads(async (ids) => (await recordedOf(namespace, ids).execute(db)).rows, (row) => row.id);
      readers.set(namespace, read);
    }
    return read;
  };
  return {
    checkAndInsert: (namespace, id, expiresAt, now) => batch({ order: `0:${namespace}:${id}`, run: async (trx) =>
      (await recordIdsStatement([{ namespace, id, expires_at: expiresAt }], now).execute(trx)).rows.length === 1 }),
    async seen(namespace, id, now) {
      const rows = await seenIn(namespace)(id);
      return rows.some((row) => row.expires_at > now);
    },
    async purgeExpired(now) {
      const result = await db.deleteFrom('replay_cache').where('expires_at', '<=', now).executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}
