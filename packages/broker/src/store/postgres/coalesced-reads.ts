import { rejectEach, turnBatcher } from '../turn-batcher.ts';

interface Pending<R> {
  key: string;
  resolve: (rows: R[]) => void;
  reject: (error: unknown) => void;
}

/** A NUL or a lone surrogate (with the `u` flag a well-formed pair is one code point, not `Cs`). */
const UNSTORABLE = /[\u0000\p{Cs}]/u;

/** At most this many keys in one statement; more wait for the next turn's. */
const MAX_KEYS = 256;

/**
 * A point read of the hot path (an agent by id, a mandate by grant hash, …), coalesced: the keys
 * asked for in one event-loop turn are read by one statement (`read`, typically `… = any($1)`),
 * and each caller gets the rows of its own key (none when there are none). Not a cache: each
 * statement runs after every read it answers was asked for, so a read sees whatever had committed
 * by then, as a statement of its own would. On PostgreSQL a statement's round trip costs the
 * broker about as much CPU as the statement costs the server, so a turn's mints pay one round trip
 * per kind of read between them rather than one each. If the statement fails, every read of it fails.
 *
 * @example
 * const humanRows = coalescedReads((ids) => db.selectFrom('humans').selectAll().where('id', '=', sql<string>`any(${ids}::text[])`).execute(), (row) => row.id);
 * const [row] = await humanRows('usr_1');
 */
export function coalescedReads<R>(read: (keys: string[]) => Promise<R[]>, keyOf: (row: R) => string): (key: string) => Promise<R[]> {
  const enqueue = turnBatcher<Pending<R>>(MAX_KEYS, async (batch) => {
    const rows = await read([...new Set(batch.map((p) => p.key))]);
    const byKey = new Map<string, R[]>();
    for (const row of rows) {
      const key = keyOf(row);
      const list = byKey.get(key);
      if (list) list.push(row);
      else byKey.set(key, [row]);
    }
    for (const pending of batch) pending.resolve(byKey.get(pending.key) ?? []);
  }, { failed: rejectEach });
  // A key PostgreSQL cannot hold as text (a NUL; a lone surrogate, which the driver would send
  // as U+FFFD) equals no stored row: it is answered at once and never joins a statement, where
  // it would fail (or mismatch) every read of the turn.
  return (key) => (!UNSTORABLE.test(key) ? new Promise<R[]>((resolve, reject) => enqueue({ key, resolve, reject })) : Promise.resolve([]));
}
