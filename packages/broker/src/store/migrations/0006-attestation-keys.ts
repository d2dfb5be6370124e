import type { Kysely } from 'kysely';

/** TPM attestation keys registered by credential activation (attestors/tpm-quote), one row per (agent, AK name). */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('attestation_keys')
    .addColumn('agent_id', 'text', (c) => c.notNull().references('agents.id'))
    .addColumn('ak_name', 'text', (c) => c.notNull())
    .addColumn('ak_public', 'text', (c) => c.notNull())
    .addColumn('ek_certificate_digest', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('attestation_keys_pk', ['agent_id', 'ak_name'])
    .execute();
}
