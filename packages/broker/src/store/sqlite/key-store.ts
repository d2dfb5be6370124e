import type { Kysely, Selectable } from 'kysely';
import type { KeyRecord } from '../../core/model.ts';
import type { KeyStore } from '../../ports/key-store.ts';
import type { Database, SigningKeysTable } from '../schema.ts';

export function createSqliteKeyStore(db: Kysely<Database>): KeyStore {
  return {
    async insert(record) {
      await db.insertInto('signing_keys').values(toRow(record)).execute();
    },
    async list() {
      const rows = await db.selectFrom('signing_keys').selectAll().orderBy('created_at').orderBy('kid').execute();
      return rows.map(fromRow);
    },
    async get(kid) {
      const row = await db.selectFrom('signing_keys').selectAll().where('kid', '=', kid).executeTakeFirst();
      return row ? fromRow(row) : null;
    },
    async scheduleRetirement(retiresAt, exceptKid) {
      const result = await db
        .updateTable('signing_keys')
        .set({ retires_at: retiresAt })
        .where('retires_at', 'is', null)
        .where('kid', '!=', exceptKid)
        .executeTakeFirst();
      return Number(result.numUpdatedRows);
    },
    async replacePrivateJwk(kid, expected, next) {
      const result = await db
        .updateTable('signing_keys')
        .set({ private_jwk: JSON.stringify(next) })
        .where('kid', '=', kid)
        .where('private_jwk', '=', JSON.stringify(expected))
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },
  };
}

function toRow(record: KeyRecord): SigningKeysTable {
  return {
    kid: record.kid,
    alg: record.alg,
    public_jwk: JSON.stringify(record.publicJwk),
    private_jwk: JSON.stringify(record.privateJwk),
    created_at: record.createdAt,
    activates_at: record.activatesAt,
    retires_at: record.retiresAt,
  };
}

function fromRow(row: Selectable<SigningKeysTable>): KeyRecord {
  return {
    kid: row.kid,
    alg: row.alg as KeyRecord['alg'],
    publicJwk: JSON.parse(row.public_jwk) as KeyRecord['publicJwk'],
    privateJwk: JSON.parse(row.private_jwk) as KeyRecord['privateJwk'],
    createdAt: row.created_at,
    activatesAt: row.activates_at,
    retiresAt: row.retires_at,
  };
}
