import type { Migration } from 'kysely';
import * as m0001 from './0001-foundation.ts';
import * as m0002 from './0002-audit.ts';

/**
 * PostgreSQL's own files for the migration numbers whose DDL differs from the shared file
 * (same name, so both dialects advance in lockstep); every other number runs the shared file.
 */
export const POSTGRES_MIGRATIONS: Record<string, Migration> = {
  '0001-foundation': m0001,
  '0002-audit': m0002,
};
