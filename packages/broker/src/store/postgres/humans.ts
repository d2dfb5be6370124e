import { sql, type Kysely } from 'kysely';
import type { HumanRepository } from '../../ports/directory.ts';
import type { Database } from '../schema.ts';
import { createSqliteHumans, humanFromRow } from '../sqlite/humans.ts';
import { coalescedReads } from './coalesced-reads.ts';

/** The shared plain-Kysely adapter, but `get` (introspection's and the sub-grant paths' approver check) is coalesced per event-loop turn (coalesced-reads.ts). */
export function createPostgresHumans(db: Kysely<Database>): HumanRepository {
  const rowsOf = coalescedReads((ids) => db.selectFrom('humans').selectAll().where('id', '=', sql<string>`any(${ids}::text[])`).execute(), (row) => row.id);
  return {
    ...createSqliteHumans(db),
    get: async (id) => {
      const [row] = await rowsOf(id);
      return row ? humanFromRow(row) : null;
    },
  };
}
