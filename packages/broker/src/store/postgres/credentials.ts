import type { ChainHashing } from '../../core/audit-chain.ts';
import type { Kysely } from 'kysely';
import type { CredentialRepository } from '../../ports/mandates.ts';
import type { Database } from '../schema.ts';
import { createSqliteCredentials } from '../sqlite/credentials.ts';
import { createPostgresIssueCommit } from './issue-commit.ts';
import { kyselyOnlyHandle } from './shared-adapters.ts';

/**
 * Revocations and reads are the shared single conditional statements. `commitIssue` is the batched
 * mint transaction (issue-commit.ts): it locks the agent, mandate and approver rows `FOR SHARE`
 * before it inserts, so a concurrent revocation, suspension or disabling (an UPDATE of those rows)
 * waits for its commit and then sees the new credentials, or it waits for it and sees the new status.
 */
export function createPostgresCredentials(db: Kysely<Database>, hashing: ChainHashing): CredentialRepository {
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
    commitIssue: createPostgresIssueCommit(db, hashing),
  };
}
