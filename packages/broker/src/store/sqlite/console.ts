import type { Kysely, Selectable } from 'kysely';
import { isConsoleRole } from '../../core/roles.ts';
import type { ConsoleAuthMethod, ConsoleRepositories, ConsoleSessionRecord, Invite, Passkey } from '../../ports/console.ts';
import type { ConsoleSessionsTable, Database, HumanInvitesTable, PasskeysTable } from '../schema.ts';

/** The console's tables (migration 0008) on SQLite; every guarded change is one conditional write. */
export function createSqliteConsole(db: Kysely<Database>): ConsoleRepositories {
  return {
    passkeys: {
      insert: async (p) => void (await db.insertInto('passkeys').values(passkeyRow(p)).execute()),
      get: async (id) => fromPasskeyRow(await db.selectFrom('passkeys').selectAll().where('credential_id', '=', id).executeTakeFirst()),
      listByHuman: async (humanId) =>
        (await db.selectFrom('passkeys').selectAll().where('human_id', '=', humanId).orderBy('created_at').execute()).map((r) => fromPasskeyRow(r)!),
      async recordUse(id, expected, counter, at) {
        const result = await db.updateTable('passkeys').set({ counter, last_used_at: at })
          .where('credential_id', '=', id).where('counter', '=', expected).executeTakeFirst();
        return Number(result.numUpdatedRows) === 1;
      },
    },
    invites: {
      insert: async (i) => void (await db.insertInto('human_invites').values(inviteRow(i)).execute()),
      get: async (hash) => fromInviteRow(await db.selectFrom('human_invites').selectAll().where('token_hash', '=', hash).executeTakeFirst()),
      async consume(hash, at) {
        const result = await db.updateTable('human_invites').set({ used_at: at })
          .where('token_hash', '=', hash).where('used_at', 'is', null).where('expires_at', '>', at).executeTakeFirst();
        return Number(result.numUpdatedRows) === 1;
      },
    },
    sessions: {
      insert: async (s) => void (await db.insertInto('console_sessions').values(sessionRow(s)).execute()),
      get: async (hash, now) =>
        fromSessionRow(await db.selectFrom('console_sessions').selectAll().where('id_hash', '=', hash).where('expires_at', '>', now).executeTakeFirst()),
      markStepUp: async (hash, at) => void (await db.updateTable('console_sessions').set({ step_up_at: at }).where('id_hash', '=', hash).execute()),
      delete: async (hash) => void (await db.deleteFrom('console_sessions').where('id_hash', '=', hash).execute()),
      deleteByHuman: async (humanId) => Number((await db.deleteFrom('console_sessions').where('human_id', '=', humanId).executeTakeFirst()).numDeletedRows),
    },
    roles: {
      get: async (humanId) =>
        (await db.selectFrom('human_roles').select('role').where('human_id', '=', humanId).orderBy('role').execute()).map((r) => r.role).filter(isConsoleRole),
      async set(humanId, roles) {
        await db.transaction().execute(async (tx) => {
          await tx.deleteFrom('human_roles').where('human_id', '=', humanId).execute();
          if (roles.length > 0) await tx.insertInto('human_roles').values([...new Set(roles)].map((role) => ({ human_id: humanId, role }))).execute();
        });
      },
    },
    oidcLinks: {
      find: async (issuer, subject) =>
        (await db.selectFrom('human_oidc_links').select('human_id').where('issuer', '=', issuer).where('subject', '=', subject).executeTakeFirst())?.human_id ?? null,
      async link(issuer, subject, humanId, at) {
        await db.insertInto('human_oidc_links').values({ issuer, subject, human_id: humanId, created_at: at }).onConflict((oc) => oc.doNothing()).execute();
        return (await db.selectFrom('human_oidc_links').select('human_id').where('issuer', '=', issuer).where('subject', '=', subject).executeTakeFirstOrThrow()).human_id;
      },
    },
  };
}

const passkeyRow = (p: Passkey): PasskeysTable => ({
  credential_id: p.credentialId, human_id: p.humanId, public_key: p.publicKey, counter: p.counter,
  transports: JSON.stringify(p.transports), created_at: p.createdAt, last_used_at: p.lastUsedAt,
});

function fromPasskeyRow(row: Selectable<PasskeysTable> | undefined): Passkey | null {
  if (!row) return null;
  return {
    credentialId: row.credential_id, humanId: row.human_id, publicKey: row.public_key, counter: Number(row.counter),
    transports: JSON.parse(row.transports) as string[], createdAt: Number(row.created_at), lastUsedAt: row.last_used_at === null ? null : Number(row.last_used_at),
  };
}

const inviteRow = (i: Invite): HumanInvitesTable => ({
  token_hash: i.tokenHash, human_id: i.humanId, created_by: i.createdBy, created_at: i.createdAt, expires_at: i.expiresAt, used_at: i.usedAt,
});

function fromInviteRow(row: Selectable<HumanInvitesTable> | undefined): Invite | null {
  if (!row) return null;
  return {
    tokenHash: row.token_hash, humanId: row.human_id, createdBy: row.created_by, createdAt: Number(row.created_at),
    expiresAt: Number(row.expires_at), usedAt: row.used_at === null ? null : Number(row.used_at),
  };
}

const sessionRow = (s: ConsoleSessionRecord): ConsoleSessionsTable => ({
  id_hash: s.idHash, human_id: s.humanId, csrf: s.csrf, method: s.method, created_at: s.createdAt, expires_at: s.expiresAt, step_up_at: s.stepUpAt,
});

function fromSessionRow(row: Selectable<ConsoleSessionsTable> | undefined): ConsoleSessionRecord | null {
  if (!row) return null;
  return {
    idHash: row.id_hash, humanId: row.human_id, csrf: row.csrf, method: row.method as ConsoleAuthMethod, createdAt: Number(row.created_at),
    expiresAt: Number(row.expires_at), stepUpAt: row.step_up_at === null ? null : Number(row.step_up_at),
  };
}
