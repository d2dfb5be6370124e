import type { ColumnDefinitionBuilder, Kysely } from 'kysely';

/** An ever-growing integer key: the one piece of 0001 whose DDL differs between dialects. */
export interface SerialKey {
  type: 'integer' | 'bigint';
  define(column: ColumnDefinitionBuilder): ColumnDefinitionBuilder;
}

const SQLITE_SERIAL: SerialKey = { type: 'integer', define: (c) => c.primaryKey().autoIncrement() };

/** Directory (humans, agents, admin tokens), signing keys and the state ports. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await createFoundation(db, SQLITE_SERIAL);
}

/** The tables of 0001; `serial` defines `changes.cursor` and `notifications.id`. */
export async function createFoundation(db: Kysely<unknown>, serial: SerialKey): Promise<void> {
  await db.schema
    .createTable('humans')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('email', 'text')
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('disabled_at', 'bigint')
    .execute();

  await db.schema
    .createTable('agents')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull().unique())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('policy', 'text', (c) => c.notNull())
    .addColumn('jwk', 'text', (c) => c.notNull())
    .addColumn('jwk_thumbprint', 'text', (c) => c.notNull())
    .addColumn('review_due_at', 'bigint')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('last_seen_at', 'bigint')
    .execute();

  await db.schema
    .createTable('agent_humans')
    .addColumn('agent_id', 'text', (c) => c.notNull().references('agents.id'))
    .addColumn('human_id', 'text', (c) => c.notNull().references('humans.id'))
    .addColumn('role', 'text', (c) => c.notNull())
    .addColumn('position', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('agent_humans_pk', ['agent_id', 'role', 'human_id'])
    .execute();
  await db.schema.createIndex('agent_humans_by_human').on('agent_humans').columns(['human_id', 'role']).execute();

  await db.schema
    .createTable('admin_tokens')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('human_id', 'text', (c) => c.notNull().references('humans.id'))
    .addColumn('label', 'text', (c) => c.notNull())
    .addColumn('rights', 'text', (c) => c.notNull())
    .addColumn('secret_hash', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint')
    .addColumn('revoked_at', 'bigint')
    .execute();

  await db.schema
    .createTable('signing_keys')
    .addColumn('kid', 'text', (c) => c.primaryKey())
    .addColumn('alg', 'text', (c) => c.notNull())
    .addColumn('public_jwk', 'text', (c) => c.notNull())
    .addColumn('private_jwk', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('activates_at', 'bigint', (c) => c.notNull())
    .addColumn('retires_at', 'bigint')
    .execute();

  await db.schema
    .createTable('replay_cache')
    .addColumn('namespace', 'text', (c) => c.notNull())
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('replay_cache_pk', ['namespace', 'id'])
    .execute();
  await db.schema.createIndex('replay_cache_by_expiry').on('replay_cache').column('expires_at').execute();

  await db.schema
    .createTable('use_counters')
    .addColumn('key', 'text', (c) => c.primaryKey())
    .addColumn('total', 'integer', (c) => c.notNull())
    .addColumn('remaining', 'integer', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('changes')
    .addColumn('cursor', serial.type, serial.define)
    .addColumn('topic', 'text', (c) => c.notNull())
    .addColumn('key', 'text', (c) => c.notNull())
    .addColumn('at', 'bigint', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('notifications')
    .addColumn('id', serial.type, serial.define)
    .addColumn('recipient', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('payload', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('delivered_at', 'bigint')
    .execute();
  await db.schema.createIndex('notifications_pending').on('notifications').columns(['delivered_at', 'id']).execute();
}
