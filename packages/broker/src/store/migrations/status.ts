import type { Kysely, MigrationProvider } from 'kysely';
import type { MigrationStatus } from '../../ports/store-health.ts';

/**
 * Readiness (docs/operations.md): the applied list compared with the provider's. Reads Kysely's
 * `kysely_migration` table directly: one indexed read, no schema introspection, no writes.
 */
export async function migrationStatus(db: Kysely<any>, provider: MigrationProvider): Promise<MigrationStatus> {
  const known = Object.keys(await provider.getMigrations());
  const rows: Array<{ name: string }> = await db.selectFrom('kysely_migration').select('name').execute();
  const applied = new Set(rows.map((row) => row.name));
  return {
    pending: known.filter((name) => !applied.has(name)).sort(),
    unknown: [...applied].filter((name) => !known.includes(name)).sort(),
  };
}
