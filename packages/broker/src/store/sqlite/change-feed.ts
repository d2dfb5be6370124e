import type { Kysely } from 'kysely';
import type { ChainHashing } from '../../core/audit-chain.ts';
import type { ChangeFeed, CommittedRevocation, RevocationOutcome } from '../../ports/change-feed.ts';
import { createChangeHub } from '../change-hub.ts';
import { changesState, revocationStatements } from '../revocation-writes.ts';
import type { Database } from '../schema.ts';
import { appendLocked } from './audit-sink.ts';
import type { SqliteHandle } from './open.ts';
import { transactImmediate } from './sync-transaction.ts';

const NOT_APPLIED: CommittedRevocation = { outcome: { applied: false, credentialsRevoked: 0, cursor: null }, records: [] };

/**
 * Cursors come from an AUTOINCREMENT key, so they only grow, even after rows are deleted.
 * The reads are plain Kysely (PostgreSQL reuses them: pass only `db`).
 *
 * With the store's `handle`: `subscribe` and `commitRevocation`. One process owns the broker's
 * SQLite file, so a change committed here wakes this process's subscribers at once (no
 * notification needed); their poll still catches a change another process (a CLI) wrote.
 */
export function createSqliteChangeFeed(db: Kysely<Database>, store?: { handle: SqliteHandle; hashing: ChainHashing }): ChangeFeed {
  const reads: ChangeFeed = {
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
  if (!store) return reads;
  const { handle, hashing } = store;
  const hub = createChangeHub(reads);
  return {
    ...reads,
    async publish(topic, key, at) {
      const cursor = await reads.publish(topic, key, at);
      hub.wakeAll();
      return cursor;
    },
    subscribe: hub.subscribe,
    /** One savepoint of the write-locked group commit: all of it is stored, or none. */
    async commitRevocation(write, audit, events) {
      const stateful = changesState(write);
      const statements = revocationStatements(db, write);
      const committed = await transactImmediate(handle, (q): CommittedRevocation => {
        if (stateful && (!statements.transition || q.run(statements.transition) !== 1)) return NOT_APPLIED;
        const credentialsRevoked = statements.credentials ? q.run(statements.credentials) : 0;
        if (!stateful && credentialsRevoked === 0) return NOT_APPLIED;
        const cursor = statements.change ? q.first(statements.change)!.cursor : null;
        const outcome: RevocationOutcome = { applied: true, credentialsRevoked, cursor };
        const inputs = events(outcome);
        return { outcome, records: inputs.length > 0 ? appendLocked(handle, q, { ...audit, hashing }, inputs) : [] };
      });
      if (committed.outcome.cursor !== null) hub.wakeAll();
      return committed;
    },
  };
}
