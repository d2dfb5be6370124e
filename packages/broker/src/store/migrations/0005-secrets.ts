import type { Kysely } from 'kysely';

/** Shared HMAC keys (DPoP nonces, attest challenges), one row each. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('broker_secrets')
    .addColumn('name', 'text', (c) => c.primaryKey())
    .addColumn('value', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
}
