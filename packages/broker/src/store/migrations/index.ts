import type { Migration, MigrationProvider } from 'kysely';
import * as m0001 from './0001-foundation.ts';
import * as m0002 from './0002-audit.ts';
import * as m0003 from './0003-attestations.ts';
import * as m0004 from './0004-mandates.ts';
import * as m0005 from './0005-secrets.ts';
import * as m0006 from './0006-attestation-keys.ts';
import * as m0007 from './0007-sub-agent-hops.ts';
import * as m0009 from './0009-reviews-notifications.ts';
import * as m0008 from './0008-console.ts';
import * as m0010 from './0010-findings-lifecycle.ts';
import * as m0011 from './0011-status-lists-ssf.ts';
import { POSTGRES_MIGRATIONS } from './postgres/index.ts';

/**
 * Numbered migrations, listed explicitly (no directory scanning), so SQLite and PostgreSQL
 * advance in lockstep. A dialect whose DDL differs gets its own file under the same number.
 */
const MIGRATIONS: Record<string, Migration> = {
  '0001-foundation': m0001,
  '0002-audit': m0002,
  '0003-attestations': m0003,
  '0004-mandates': m0004,
  '0005-secrets': m0005,
  '0006-attestation-keys': m0006,
  '0007-sub-agent-hops': m0007,
  '0009-reviews-notifications': m0009,
  '0008-console': m0008,
  '0010-findings-lifecycle': m0010,
  '0011-status-lists-ssf': m0011,
};

export const migrationProvider: MigrationProvider = {
  getMigrations: async () => MIGRATIONS,
};

export type StoreDialect = 'sqlite' | 'postgres';

/** The migrations of `dialect`: the shared list, with PostgreSQL's own file where its DDL differs. */
export function migrationProviderFor(dialect: StoreDialect): MigrationProvider {
  if (dialect === 'sqlite') return migrationProvider;
  return { getMigrations: async () => ({ ...MIGRATIONS, ...POSTGRES_MIGRATIONS }) };
}
