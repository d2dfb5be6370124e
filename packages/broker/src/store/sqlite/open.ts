import { closeSync, fdatasync, openSync, realpathSync } from 'node:fs';
import Sqlite from 'better-sqlite3';
import { Kysely, Migrator, SqliteDialect } from 'kysely';
import { migrationProvider } from '../migrations/index.ts';
import type { Database } from '../schema.ts';

export interface SqliteOptions {
  /** File path, or ':memory:'. */
  path: string;
  /** `FULL` makes every commit durable in WAL mode; `NORMAL` may lose the last commits on power loss. */
  synchronous?: 'FULL' | 'NORMAL';
  /** Open without migrating and refuse writes (offline `audit verify`). */
  readonly?: boolean;
  busyTimeoutMs?: number;
  /** Memory-map up to this many MiB of the file (`PRAGMA mmap_size`); 0 or absent: off. */
  mmapSizeMb?: number;
}

export interface SqliteHandle {
  db: Kysely<Database>;
  raw: Sqlite.Database;
  /**
   * With `synchronous = FULL` on a file: makes the WAL durable (`fdatasync`) off the event loop.
   * The group commit commits with `synchronous = NORMAL` and calls this before any caller of the
   * batch learns its result (sync-transaction.ts). Null when there is nothing to wait for.
   */
  syncWal: (() => Promise<void>) | null;
}

/** `PRAGMA temp_store` values (sqlite.org/pragma.html#pragma_temp_store). */
export const TEMP_STORE = { file: 1, memory: 2 } as const;

/** WAL pages after which a commit checkpoints (`PRAGMA wal_autocheckpoint`; SQLite's default is 1,000). */
export const WAL_AUTOCHECKPOINT_PAGES = 4000;

export function openSqliteConnection(options: SqliteOptions): Sqlite.Database {
  const raw = new Sqlite(options.path, { readonly: options.readonly ?? false, fileMustExist: options.readonly ?? false });
  raw.pragma(`busy_timeout = ${options.busyTimeoutMs ?? 5000}`);
  if (options.mmapSizeMb) raw.pragma(`mmap_size = ${Math.floor(options.mmapSizeMb) * 1024 * 1024}`);
  if (!options.readonly) {
    raw.pragma('journal_mode = WAL');
    raw.pragma(`synchronous = ${options.synchronous ?? 'FULL'}`);
    raw.pragma('foreign_keys = ON');
    // Keys at rest (docs/keys-at-rest.md): a row rewritten sealed must not leave its plaintext in the
    // page's free space. FAST zeroes freed cell content without extra page writes (sqlite.org/pragma.html#pragma_secure_delete).
    raw.pragma('secure_delete = FAST');
    // A checkpoint runs inside the commit that crosses the threshold, on the event loop, with two
    // fsyncs the loop waits out. SQLite's 1,000 pages (4 MiB) meant one every few hundred mints;
    // 4,000 (16 MiB) cost ~3 % less CPU and gave ~10 % more mints/s (docs/architecture.md).
    raw.pragma(`wal_autocheckpoint = ${WAL_AUTOCHECKPOINT_PAGES}`);
    // Each work of a group commit runs in a savepoint (sync-transaction.ts), and SQLite copies every
    // page a savepoint changes to a statement journal, spilled past 64 KiB to a deleted file in the
    // temp directory: ~20 page writes per mint went there, page contents included. In memory they
    // cost ~2 % less CPU per mint and leave nothing on disk (docs/architecture.md).
    raw.pragma(`temp_store = ${TEMP_STORE.memory}`);
  }
  return raw;
}

/**
 * After values were rewritten in place (keys at rest sealed, docs/keys-at-rest.md): secure_delete=FAST
 * leaves whole freelist pages unzeroed, and the old version of a rewritten page stays in the database
 * file (and old frames in the WAL) until a checkpoint (sqlite.org/pragma.html#pragma_secure_delete,
 * sqlite.org/wal.html). VACUUM rebuilds the file with no freelist; a TRUNCATE checkpoint then writes
 * every page back and empties the WAL. VACUUM's copy goes to a temporary file, so a large database
 * does not take its size in memory. False when another connection kept the checkpoint from finishing.
 */
export function scrubRewrittenPages(raw: Sqlite.Database): boolean {
  // VACUUM builds its copy of the whole database as a temporary database: on disk, not in memory.
  raw.pragma(`temp_store = ${TEMP_STORE.file}`);
  try {
    raw.exec('VACUUM');
  } finally {
    raw.pragma(`temp_store = ${TEMP_STORE.memory}`);
  }
  const [result] = raw.pragma('wal_checkpoint(TRUNCATE)') as Array<{ busy: number }>;
  return result?.busy === 0;
}

/** Opens (and unless read-only, migrates) a SQLite database. */
export async function openSqlite(options: SqliteOptions): Promise<SqliteHandle> {
  const raw = openSqliteConnection(options);
  const durable = !options.readonly && !raw.memory && (options.synchronous ?? 'FULL') === 'FULL';
  let wal: ReturnType<typeof walFlusher> | null = null;
  // Kysely prepares every query anew; statements are cached by SQL text instead (the hot path
  // runs the same few statements). Safe because no query of the broker is streamed (iterate).
  const close = () => {
    raw.close();
    wal?.close();
  };
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: { close, prepare: (sql: string) => prepareCached(raw, sql) } }) });
  if (!options.readonly) await migrateToLatest(db);
  // SQLite names the WAL after the database's resolved path (a symbolic link followed); it exists
  // once the migrations have read the database.
  if (durable) wal = walFlusher(`${realpathSync(raw.name)}-wal`);
  return { db, raw, syncWal: wal?.flush ?? null };
}

/**
 * `fdatasync` of the WAL on the libuv thread pool: the event loop keeps serving while the disk
 * flushes. On Linux it flushes every write made to the file before the call, through whichever
 * descriptor. The descriptor is opened here, at start (a missing WAL fails the start, not a later
 * commit), and kept: SQLite keeps the file while a connection is open, and truncates rather than
 * replaces it.
 */
function walFlusher(path: string) {
  let fd: number | null = openSync(path, 'r');
  let inFlight = 0;
  let closing = false;
  // Never close under a flush: the number could be reused by another file before it runs.
  const release = () => {
    if (closing && inFlight === 0 && fd !== null) {
      closeSync(fd);
      fd = null;
    }
  };
  return {
    flush: () => new Promise<void>((resolve, reject) => {
      if (closing || fd === null) return reject(new Error('the store is closed'));
      inFlight++;
      fdatasync(fd, (error) => {
        inFlight--;
        release();
        if (error) reject(error);
        else resolve();
      });
    }),
    close: () => {
      closing = true;
      release();
    },
  };
}

const statementCaches = new WeakMap<Sqlite.Database, Map<string, Sqlite.Statement>>();
const STATEMENT_CACHE_LIMIT = 1024;

/** The connection's prepared statement for `sql`, prepared once (bounded cache). */
export function prepareCached(raw: Sqlite.Database, sql: string): Sqlite.Statement {
  let cache = statementCaches.get(raw);
  if (!cache) statementCaches.set(raw, (cache = new Map()));
  let stmt = cache.get(sql);
  if (!stmt) {
    stmt = raw.prepare(sql);
    if (cache.size < STATEMENT_CACHE_LIMIT) cache.set(sql, stmt);
  }
  return stmt;
}

export async function migrateToLatest(db: Kysely<Database>): Promise<void> {
  const migrator = new Migrator({ db, provider: migrationProvider });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    throw new Error(`store migration ${failed} failed: ${error instanceof Error ? error.message : String(error)}`);
  }
}
