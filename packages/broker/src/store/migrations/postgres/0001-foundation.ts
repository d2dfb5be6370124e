import type { Kysely } from 'kysely';
import { createFoundation, type SerialKey } from '../0001-foundation.ts';

/**
 * PostgreSQL's 0001: the tables of `../0001-foundation.ts`, except that the two
 * auto-incrementing keys (`changes.cursor`, `notifications.id`) are identity columns: PostgreSQL
 * has no AUTOINCREMENT. A sequence never hands out a value twice, even after deletes or rollbacks,
 * so cursors only grow, as on SQLite.
 */
const IDENTITY: SerialKey = { type: 'bigint', define: (c) => c.primaryKey().generatedByDefaultAsIdentity() };

export async function up(db: Kysely<unknown>): Promise<void> {
  await createFoundation(db, IDENTITY);
}
