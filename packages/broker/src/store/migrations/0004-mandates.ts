import type { Kysely } from 'kysely';

/** PROTOCOL §4, §5, §8: mandates (CIBA requests and the delegations they become) and issued access tokens. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('mandates')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('agent_id', 'text', (c) => c.notNull().references('agents.id'))
    .addColumn('approver_id', 'text', (c) => c.notNull().references('humans.id'))
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('task', 'text', (c) => c.notNull())
    .addColumn('binding_message', 'text')
    .addColumn('task_document', 'text', (c) => c.notNull())
    .addColumn('task_s256', 'text', (c) => c.notNull())
    .addColumn('attestation_id', 'text', (c) => c.notNull())
    .addColumn('attestation_digest', 'text', (c) => c.notNull())
    .addColumn('dpop_jkt', 'text', (c) => c.notNull())
    .addColumn('auth_req_id_hash', 'text', (c) => c.notNull().unique())
    .addColumn('request_expires_at', 'bigint', (c) => c.notNull())
    .addColumn('interval', 'integer', (c) => c.notNull())
    .addColumn('last_polled_at', 'bigint')
    .addColumn('approval', 'text')
    .addColumn('decided_at', 'bigint')
    // Several NULLs never collide under UNIQUE (SQLite and PostgreSQL alike): only issued grants are unique.
    .addColumn('grant_hash', 'text', (c) => c.unique())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('ended_at', 'bigint')
    .addColumn('end_reason', 'text')
    .execute();
  await db.schema.createIndex('mandates_by_agent').on('mandates').columns(['agent_id', 'status']).execute();
  await db.schema.createIndex('mandates_by_approver').on('mandates').columns(['approver_id', 'status']).execute();
  await db.schema.createIndex('mandates_by_status').on('mandates').columns(['status', 'created_at']).execute();

  await db.schema
    .createTable('credentials')
    .addColumn('jti', 'text', (c) => c.primaryKey())
    .addColumn('mandate_id', 'text', (c) => c.references('mandates.id'))
    .addColumn('agent_id', 'text', (c) => c.notNull().references('agents.id'))
    .addColumn('subject', 'text', (c) => c.notNull())
    .addColumn('audience', 'text', (c) => c.notNull())
    .addColumn('jkt', 'text', (c) => c.notNull())
    .addColumn('issued_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .addColumn('revoked_at', 'bigint')
    .execute();
  await db.schema.createIndex('credentials_by_mandate').on('credentials').column('mandate_id').execute();
  await db.schema.createIndex('credentials_by_agent').on('credentials').column('agent_id').execute();
}
