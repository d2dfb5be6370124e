import type { Kysely } from 'kysely';

/** PROTOCOL §3: attestation outcomes. Digests, claims and reasons only; raw evidence is never stored. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('attestations')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('agent_id', 'text', (c) => c.notNull().references('agents.id'))
    .addColumn('jkt', 'text', (c) => c.notNull())
    .addColumn('policy', 'text', (c) => c.notNull())
    .addColumn('verdict', 'text', (c) => c.notNull())
    .addColumn('results', 'text', (c) => c.notNull())
    .addColumn('failures', 'text', (c) => c.notNull())
    .addColumn('satisfied_by', 'integer')
    .addColumn('evidence_digest', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('attestations_by_agent').on('attestations').columns(['agent_id', 'created_at']).execute();
}
