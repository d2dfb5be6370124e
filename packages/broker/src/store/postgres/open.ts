import { Kysely, Migrator, PostgresDialect } from 'kysely';
import pg from 'pg';
import { migrationProviderFor } from '../migrations/index.ts';
import type { Database } from '../schema.ts';
import { prepareStatements } from './prepared.ts';

export interface PostgresOptions {
  /** `postgres://user[:password]@host[:port]/database[?sslmode=…]` (libpq URL syntax). */
  url: string;
  /** Most connections this store opens (the pool's bound); the change feed's listener adds one. */
  poolSize?: number;
  /** Parameterised statements as named prepared statements (prepared.ts); default true. */
  preparedStatements?: boolean;
  /** Open without migrating, every transaction read-only (offline `audit verify`). */
  readonly?: boolean;
  /** Per-statement limit, so a stuck lock fails a request instead of hanging it. */
  statementTimeoutMs?: number;
}

export interface PostgresHandle {
  db: Kysely<Database>;
  pool: pg.Pool;
  options: PostgresOptions;
}

const INT8_OID = 20;

/**
 * `bigint` columns hold epoch milliseconds, seqs and cursors: well inside 2^53. node-postgres
 * returns int8 as a string by default (it cannot know that); read it as a number, and refuse a
 * value that a number would round rather than return a wrong one.
 */
function parseInt8(text: string): number {
  const value = Number(text);
  if (!Number.isSafeInteger(value)) throw new RangeError(`int8 value ${text} is outside the safe integer range`);
  return value;
}

const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8_OID ? parseInt8 : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
};

/** The pool's connection settings (also used by the change feed's dedicated listener). */
export function clientConfig(options: PostgresOptions): pg.ClientConfig {
  const settings = [`-c statement_timeout=${options.statementTimeoutMs ?? 30_000}`];
  if (options.readonly) settings.push('-c default_transaction_read_only=on');
  return { connectionString: options.url, types, options: settings.join(' '), application_name: 'mandate' };
}

/** Opens a bounded pool (and unless read-only, migrates). */
export async function openPostgres(options: PostgresOptions): Promise<PostgresHandle> {
  const pool = new pg.Pool({ ...clientConfig(options), max: options.poolSize ?? 10, idleTimeoutMillis: 30_000 });
  // An idle client's error (server restart) would otherwise be an uncaught 'error' event.
  pool.on('error', () => undefined);
  if (options.preparedStatements ?? true) prepareStatements(pool);
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  try {
    await db.connection().execute(async (c) => c.selectNoFrom((eb) => eb.val(1).as('ok')).execute());
    if (!options.readonly) await migratePostgres(db);
  } catch (error) {
    await db.destroy();
    throw error;
  }
  return { db, pool, options };
}

/** Kysely's migrator takes a lock row first, so replicas starting together migrate once. */
export async function migratePostgres(db: Kysely<Database>): Promise<void> {
  const migrator = new Migrator({ db, provider: migrationProviderFor('postgres') });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    throw new Error(`store migration ${failed} failed on PostgreSQL: ${error instanceof Error ? error.message : String(error)}`);
  }
}
