import type { Kysely } from 'kysely';
import type { ChangeFeed } from '../../ports/change-feed.ts';
import type { Database } from '../schema.ts';

/** Cursors come from an AUTOINCREMENT key, so they only grow, even after rows are deleted. */
export function createSqliteChangeFeed(db: Kysely<Database>): ChangeFeed {
  return {
    async publish(topic, key, at) {
      const row = await db.insertInto('changes').values({ topic, key, at }).returning('cursor').executeTakeFirstOrThrow();
      return row.cursor;
    },
    async since(cursor, limit) {
      return db
        .selectFrom('changes')
        .select(['cursor', 'topic', 'key', 'at'])
        .where('cursor', '>', cursor)
        .orderBy('cursor')
        .limit(limit)
        .execute();
    },
    async latest() {
      const row = await db
        .selectFrom('changes')
        .select((eb) => eb.fn.max('cursor').as('cursor'))
        .executeTakeFirst();
      return row?.cursor ?? 0;
    },
  };
}
