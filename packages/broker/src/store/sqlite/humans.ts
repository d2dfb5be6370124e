import type { Kysely, Selectable } from 'kysely';
import type { Human, HumanStatus } from '../../core/model.ts';
import type { HumanRepository } from '../../ports/directory.ts';
import type { Database, HumansTable } from '../schema.ts';
import { prepared } from '../prepared.ts';

/** A human's disabling, conditional: it changes no row when the human is unknown or disabled already. Shared with the revocation writes (store/revocation-writes.ts). */
export function disableHumanStatement(db: Kysely<Database>, id: string, at: number) {
  return db.updateTable('humans').set({ status: 'disabled', disabled_at: at }).where('id', '=', id).where('status', '!=', 'disabled');
}

export function createSqliteHumans(db: Kysely<Database>): HumanRepository {
  /** On the mint path (the approver must be active): compiled once (store/prepared.ts). */
  const byId = prepared<{ id: string }, Selectable<HumansTable>>((p) => db.selectFrom('humans').selectAll().where('id', '=', p('id')));
  return {
    async insert(human) {
      await db.insertInto('humans').values(toRow(human)).execute();
    },
    async get(id) {
      const row = (await db.executeQuery(byId({ id }))).rows[0];
      return row ? fromRow(row) : null;
    },
    async list() {
      const rows = await db.selectFrom('humans').selectAll().orderBy('created_at').orderBy('id').execute();
      return rows.map(fromRow);
    },
    /** False when unknown or already disabled (the first `disabledAt` stays). */
    async disable(id, at) {
      const result = await disableHumanStatement(db, id, at).executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },
  };
}

function toRow(human: Human): HumansTable {
  return {
    id: human.id,
    name: human.name,
    email: human.email,
    status: human.status,
    created_at: human.createdAt,
    disabled_at: human.disabledAt,
  };
}

function fromRow(row: Selectable<HumansTable>): Human {
  return {
    id: row.id,
    name: row.name,
    email: row.email,
    status: row.status as HumanStatus,
    createdAt: row.created_at,
    disabledAt: row.disabled_at,
  };
}

/** The row mapping, for PostgreSQL's coalesced read of the same table. */
export { fromRow as humanFromRow };
