import type { Selectable } from 'kysely';
import type { MandateStatus } from '../../core/mandate.ts';
import type { ChainHashing } from '../../core/audit-chain.ts';
import type { CommittedIssue, Credential, CredentialRepository } from '../../ports/mandates.ts';
import { isSpent, type ReplayClaim } from '../../ports/replay-cache.ts';
import { prepared } from '../prepared.ts';
import { appendLocked } from './audit-sink.ts';
import { replayInsertStatement } from './replay-cache.ts';
import { claimStatement } from './status-lists.ts';
import type { CredentialsTable } from '../schema.ts';
import type { SqliteHandle } from './open.ts';
import { transactImmediate } from './sync-transaction.ts';

/**
 * With `hashing` (the store's own adapter, not PostgreSQL's reuse of the reads): `commitIssue`, the
 * mint as one work of the group commit.
 */
export function createSqliteCredentials(handle: SqliteHandle, hashing?: ChainHashing): CredentialRepository {
  const { db } = handle;
  /** The mint's live check in one statement: each status, null for a row that is not there (or no id). */
  const statuses = prepared<{ agent: string; mandate: string | null; approver: string | null }, { agent: string | null; mandate: string | null; approver: string | null }>((p) =>
    db.selectNoFrom((eb) => [
      eb.selectFrom('agents').select('status').where('id', '=', p('agent')).as('agent'),
      eb.selectFrom('mandates').select('status').where('id', '=', p('mandate')).as('mandate'),
      eb.selectFrom('humans').select('status').where('id', '=', p('approver')).as('approver'),
    ]));
  const insertRow = prepared<CredentialsTable>((p) => db.insertInto('credentials').values({
    jti: p('jti'), mandate_id: p('mandate_id'), agent_id: p('agent_id'), subject: p('subject'), audience: p('audience'),
    jkt: p('jkt'), issued_at: p('issued_at'), expires_at: p('expires_at'), revoked_at: p('revoked_at'),
  }));
  const claim = claimStatement(db);
  const recordId = replayInsertStatement(db);
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
    /**
     * The mint: one work of the group commit, under the write lock. The single-use ids first (each
     * not seen before stays recorded whatever follows), then checks, then writes: any other refusal adds nothing. The
     * audit append comes last, as in every other write path (the chain head is the last lock).
     */
    ...(hashing ? {
      async commitIssue(write, audit, events): Promise<CommittedIssue> {
        const { credential } = write;
        const live = statuses({ agent: credential.agentId, mandate: credential.mandateId, approver: write.approverId });
        const claimSlot = claim(write);
        const insert = insertRow(toRow(credential));
        const ids = write.singleUse.map((c) => ({ claim: c, query: recordId({ namespace: c.namespace, id: c.id, expiresAt: c.expiresAt, now: write.now }) }));
        return transactImmediate(handle, (q): CommittedIssue => {
          let replayed: ReplayClaim | undefined;
          for (const { claim: c, query } of ids) if ((isSpent(c, write.now) || q.run(query) !== 1) && !replayed) replayed = c;
          if (replayed) return { outcome: 'replayed', records: [], replayed };
          const status = q.first(live)!;
          if (status.agent !== 'active' || (credential.mandateId !== null && !write.live.includes(status.mandate as MandateStatus))) return { outcome: 'not_live', records: [] };
          if (write.approverId !== null && status.approver !== 'active') return { outcome: 'approver_disabled', records: [] };
          if (q.run(claimSlot) !== 1) return { outcome: 'slot_taken', records: [] };
          q.run(insert);
          return { outcome: 'issued', records: events.length > 0 ? appendLocked(handle, q, { ...audit, hashing }, events) : [] };
        });
      },
    } satisfies Pick<CredentialRepository, 'commitIssue'> : {}),
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
