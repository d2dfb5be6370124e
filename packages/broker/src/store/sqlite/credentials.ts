import type { Selectable } from 'kysely';
import type { MandateStatus } from '../../core/mandate.ts';
import type { Credential, CredentialRepository } from '../../ports/mandates.ts';
import type { CredentialsTable } from '../schema.ts';
import type { SqliteHandle } from './open.ts';
import { transactImmediate } from './sync-transaction.ts';

export function createSqliteCredentials(handle: SqliteHandle): CredentialRepository {
  const { db } = handle;
  /** Each revocation is one conditional statement: the first `revokedAt` stays, and a row is counted once. */
  const revokeWhere = async (column: 'jti' | 'mandate_id' | 'agent_id', value: string, at: number) => {
    const result = await db
      .updateTable('credentials')
      .set({ revoked_at: at })
      .where(column, '=', value)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    return Number(result.numUpdatedRows);
  };
  return {
    async insert(credential) {
      const query = db.insertInto('credentials').values(toRow(credential));
      await transactImmediate(handle, (q) => q.run(query));
    },
    /** On the mint path: one work of the group commit, under the write lock (check, then insert). */
    async insertIfLive(credential, live) {
      const status = credential.mandateId === null ? null : db.selectFrom('mandates').select('status').where('id', '=', credential.mandateId);
      const agent = db.selectFrom('agents').select('status').where('id', '=', credential.agentId);
      const insert = db.insertInto('credentials').values(toRow(credential));
      return transactImmediate(handle, (q) => {
        if (q.first(agent)?.status !== 'active') return false;
        if (status !== null && !live.includes((q.first(status)?.status ?? '') as MandateStatus)) return false;
        q.run(insert);
        return true;
      });
    },
    async get(jti) {
      const row = await db.selectFrom('credentials').selectAll().where('jti', '=', jti).executeTakeFirst();
      return row ? fromRow(row) : null;
    },
    revoke: async (jti, at) => (await revokeWhere('jti', jti, at)) === 1,
    revokeByMandate: (mandateId, at) => revokeWhere('mandate_id', mandateId, at),
    revokeByAgent: (agentId, at) => revokeWhere('agent_id', agentId, at),
    async listByMandate(mandateId) {
      const rows = await db
        .selectFrom('credentials')
        .selectAll()
        .where('mandate_id', '=', mandateId)
        .orderBy('issued_at')
        .orderBy('jti')
        .execute();
      return rows.map(fromRow);
    },
  };
}

function toRow(credential: Credential): CredentialsTable {
  return {
    jti: credential.jti,
    mandate_id: credential.mandateId,
    agent_id: credential.agentId,
    subject: credential.subject,
    audience: credential.audience,
    jkt: credential.jkt,
    issued_at: credential.issuedAt,
    expires_at: credential.expiresAt,
    revoked_at: credential.revokedAt,
  };
}

function fromRow(row: Selectable<CredentialsTable>): Credential {
  return {
    jti: row.jti,
    mandateId: row.mandate_id,
    agentId: row.agent_id,
    subject: row.subject,
    audience: row.audience,
    jkt: row.jkt,
    issuedAt: row.issued_at,
    expiresAt: row.expires_at,
    revokedAt: row.revoked_at,
  };
}
