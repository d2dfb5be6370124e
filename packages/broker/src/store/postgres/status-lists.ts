import { sql, type Kysely } from 'kysely';
import type { StatusListRepository, StatusListSlot } from '../../ports/status-lists.ts';
import type { Database } from '../schema.ts';
import { createSqliteStatusLists } from '../sqlite/status-lists.ts';
import { kyselyOnlyHandle } from './shared-adapters.ts';

/**
 * The claim of `slots` (distinct indexes, in (list, index) order) as one statement of fixed text
 * (arrays, not rows): an index is taken when free or when its holder's `reusableAt` has come by
 * `now`, never from a live token; returns the jtis that got theirs. Run alone by `claim`, and as the
 * first part of the mint batch's second statement (issue-commit.ts).
 */
export function claimSlotsStatement(slots: readonly StatusListSlot[], now: number) {
  return sql<{ jti: string }>`
    insert into status_list_slots (list_id, idx, jti, reusable_at)
    select * from unnest(${slots.map((x) => x.listId)}::text[], ${slots.map((x) => x.idx)}::int[], ${slots.map((x) => x.jti)}::text[], ${slots.map((x) => x.reusableAt)}::bigint[])
    on conflict (list_id, idx) do update set jti = excluded.jti, reusable_at = excluded.reusable_at where status_list_slots.reusable_at <= ${now}
    returning jti`;
}

/** `claim` is one `INSERT … ON CONFLICT DO UPDATE … WHERE`: of concurrent claims of one index, one wins. */
export function createPostgresStatusLists(db: Kysely<Database>): StatusListRepository {
  return {
    ...createSqliteStatusLists(kyselyOnlyHandle(db)),
    claim: async (slot, now) => (await claimSlotsStatement([slot], now).execute(db)).rows.length === 1,
  };
}
