import type { Kysely } from 'kysely';

/**
 * The console's humans (migration 0008): passkeys (WebAuthn credentials), one-time enrolment
 * invites, console sessions, roles and links to an OIDC IdP's subjects. Secrets (invite tokens,
 * session ids) are stored only as SHA-256 hashes. Dialect-neutral: runs on SQLite and PostgreSQL.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('passkeys')
    .addColumn('credential_id', 'text', (c) => c.primaryKey())
    .addColumn('human_id', 'text', (c) => c.notNull().references('humans.id'))
    .addColumn('public_key', 'text', (c) => c.notNull())
    .addColumn('counter', 'bigint', (c) => c.notNull())
    .addColumn('transports', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('last_used_at', 'bigint')
    .execute();
  await db.schema.createIndex('passkeys_by_human').on('passkeys').column('human_id').execute();
  await db.schema
    .createTable('human_invites')
    .addColumn('token_hash', 'text', (c) => c.primaryKey())
    .addColumn('human_id', 'text', (c) => c.notNull().references('humans.id'))
    .addColumn('created_by', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .addColumn('used_at', 'bigint')
    .execute();
  await db.schema
    .createTable('console_sessions')
    .addColumn('id_hash', 'text', (c) => c.primaryKey())
    .addColumn('human_id', 'text', (c) => c.notNull().references('humans.id'))
    .addColumn('csrf', 'text', (c) => c.notNull())
    .addColumn('method', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .addColumn('step_up_at', 'bigint')
    .execute();
  await db.schema.createIndex('console_sessions_by_human').on('console_sessions').column('human_id').execute();
  await db.schema
    .createTable('human_roles')
    .addColumn('human_id', 'text', (c) => c.notNull().references('humans.id'))
    .addColumn('role', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('human_roles_pk', ['human_id', 'role'])
    .execute();
  await db.schema
    .createTable('human_oidc_links')
    .addColumn('issuer', 'text', (c) => c.notNull())
    .addColumn('subject', 'text', (c) => c.notNull())
    .addColumn('human_id', 'text', (c) => c.notNull().references('humans.id'))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('human_oidc_links_pk', ['issuer', 'subject'])
    .execute();
}
