import type { Kysely } from 'kysely';
import type { MandateStatus } from '../../core/mandate.ts';
import type { CredentialRepository } from '../../ports/mandates.ts';
import type { Database } from '../schema.ts';
import { createSqliteCredentials } from '../sqlite/credentials.ts';
import { kyselyOnlyHandle } from './shared-adapters.ts';

/**
 * Revocations and reads are the shared single conditional statements. `insertIfLive` locks the
 * agent and mandate rows `FOR SHARE` before it inserts: a concurrent revocation or suspension
 * (an UPDATE of those rows) waits for the insert's commit, and the revocation that follows it
 * sees the new credential; or the insert waits for the revocation and sees the new status.
 */
export function createPostgresCredentials(db: Kysely<Database>): CredentialRepository {
  const shared = createSqliteCredentials(kyselyOnlyHandle(db));
  const toRow = (c: Parameters<CredentialRepository['insert']>[0]) => ({
    jti: c.jti, mandate_id: c.mandateId, agent_id: c.agentId, subject: c.subject, audience: c.audience,
    jkt: c.jkt, issued_at: c.issuedAt, expires_at: c.expiresAt, revoked_at: c.revokedAt,
  });
  return {
    ...shared,
    async insert(credential) {
      await db.insertInto('credentials').values(toRow(credential)).execute();
    },
    insertIfLive: (credential, live) =>
      db.transaction().execute(async (trx) => {
        const agent = await trx.selectFrom('agents').select('status').where('id', '=', credential.agentId).forShare().executeTakeFirst();
        if (agent?.status !== 'active') return false;
        if (credential.mandateId !== null) {
          const mandate = await trx.selectFrom('mandates').select('status').where('id', '=', credential.mandateId).forShare().executeTakeFirst();
          if (!live.includes((mandate?.status ?? '') as MandateStatus)) return false;
        }
        await trx.insertInto('credentials').values(toRow(credential)).execute();
        return true;
      }),
  };
}
