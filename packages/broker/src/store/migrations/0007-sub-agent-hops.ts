import type { Kysely } from 'kysely';

/**
 * PROTOCOL §10: a sub-grant's mandate points at the mandate it was carved from, so revocation can
 * walk the tree; the one-time sub-grant is stored hashed. Human-approved mandates keep NULL / 0.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('mandates').addColumn('parent_mandate_id', 'text', (c) => c.references('mandates.id')).execute();
  await db.schema.alterTable('mandates').addColumn('depth', 'integer', (c) => c.notNull().defaultTo(0)).execute();
  await db.schema.alterTable('mandates').addColumn('sub_grant_hash', 'text').execute();
  // SQLite cannot add a UNIQUE column; a unique index does the same, and NULLs never collide in it.
  await db.schema.createIndex('mandates_by_sub_grant').on('mandates').column('sub_grant_hash').unique().execute();
  await db.schema.createIndex('mandates_by_parent').on('mandates').columns(['parent_mandate_id', 'created_at']).execute();
}
