import type { Kysely, Selectable } from 'kysely';
import type { AdminRight, AdminToken } from '../../core/model.ts';
import type { AdminTokenRepository } from '../../ports/directory.ts';
import type { AdminTokensTable, Database } from '../schema.ts';

export function createSqliteAdminTokens(db: Kysely<Database>): AdminTokenRepository {
  return {
    async insert(token) {
      await db.insertInto('admin_tokens').values(toRow(token)).execute();
    },
    async get(id) {
      const row = await db.selectFrom('admin_tokens').selectAll().where('id', '=', id).executeTakeFirst();
      return row ? fromRow(row) : null;
    },
    async list() {
      const rows = await db.selectFrom('admin_tokens').selectAll().orderBy('created_at').orderBy('id').execute();
      return rows.map(fromRow);
    },
    /** False when unknown or already revoked (the first `revokedAt` stays). */
    async revoke(id, at) {
      const result = await db
        .updateTable('admin_tokens')
        .set({ revoked_at: at })
        .where('id', '=', id)
        .where('revoked_at', 'is', null)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },
  };
}

function toRow(token: AdminToken): AdminTokensTable {
  return {
    id: token.id,
    human_id: token.humanId,
    label: token.label,
    rights: JSON.stringify(token.rights),
    secret_hash: token.secretHash,
    created_at: token.createdAt,
    expires_at: token.expiresAt,
    revoked_at: token.revokedAt,
  };
}

function fromRow(row: Selectable<AdminTokensTable>): AdminToken {
  return {
    id: row.id,
    humanId: row.human_id,
    label: row.label,
    rights: JSON.parse(row.rights) as AdminRight[],
    secretHash: row.secret_hash,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    revokedAt: row.revoked_at,
  };
}
