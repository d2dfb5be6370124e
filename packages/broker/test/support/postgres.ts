/**
 * A throwaway PostgreSQL cluster for tests: `initdb` in a temp dir (as the `postgres` user when
 * we run as root, since initdb refuses root), started with `pg_ctl` on 127.0.0.1 and a free port,
 * its socket in the temp dir, trust auth on loopback only, stopped (`pg_ctl stop -m fast`, by its
 * data directory, never by process name) and deleted by `stop()`. If PostgreSQL is missing or does
 * not start, `startPostgres` throws: a test that needs it fails, it never skips.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql, type Kysely } from 'kysely';
import pg from 'pg';
import { createPostgresStore } from '../../src/store/postgres/index.ts';

export interface PostgresCluster {
  /** `postgres://postgres@127.0.0.1:<port>/postgres` (the maintenance database). */
  url: string;
  port: number;
  /** A URL for database `name` on this cluster. */
  urlFor(name: string): string;
  stop(): Promise<void>;
}

const PG_ROOT = '/usr/lib/postgresql';

/** The newest installed server's bin dir (Debian's `postgresql` package; scripts/setup.sh installs it). */
export function postgresBinDir(): string {
  const versions = existsSync(PG_ROOT) ? readdirSync(PG_ROOT).filter((v) => existsSync(join(PG_ROOT, v, 'bin', 'initdb'))) : [];
  const newest = versions.sort((x, y) => Number(y) - Number(x))[0];
  if (!newest) throw new Error(`PostgreSQL is not installed (no ${PG_ROOT}/<version>/bin/initdb): run scripts/setup.sh`);
  return join(PG_ROOT, newest, 'bin');
}

/** Runs a PostgreSQL tool as `postgres` when we are root (initdb and postgres refuse root). */
function runAsOwner(bin: string, args: string[]): void {
  const asRoot = process.getuid?.() === 0;
  const [file, argv] = asRoot ? ['runuser', ['-u', 'postgres', '--', bin, ...args]] : [bin, args];
  execFileSync(file, argv, { stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 });
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/**
 * initdb + start. fsync stays on (the audit guarantee is about durable commits); initdb itself
 * skips its fsyncs (`--no-sync`): a crash during setup only loses the throwaway cluster.
 */
export async function startPostgres(): Promise<PostgresCluster> {
  const bin = postgresBinDir();
  const dir = mkdtempSync(join(tmpdir(), 'mandate-pg-'));
  const data = join(dir, 'data');
  if (process.getuid?.() === 0) chownSync(dir, uidOf('postgres'), gidOf('postgres'));
  const stopCluster = () => spawnSync(...ownerCommand(join(bin, 'pg_ctl'), ['-D', data, '-m', 'fast', '-w', 'stop']), { stdio: 'ignore', timeout: 60_000 });
  const onExit = () => {
    stopCluster();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    runAsOwner(join(bin, 'initdb'), ['-D', data, '-U', 'postgres', '--auth=trust', '--no-sync', '-E', 'UTF8', '--locale=C']);
    const port = await freePort();
    const settings = `-c listen_addresses=127.0.0.1 -p ${port} -k ${dir} -c max_connections=200 -c fsync=on`;
    runAsOwner(join(bin, 'pg_ctl'), ['-D', data, '-l', join(dir, 'server.log'), '-o', settings, '-w', '-t', '60', 'start']);
    process.once('exit', onExit);
    const urlFor = (name: string) => `postgres://postgres@127.0.0.1:${port}/${name}`;
    return {
      url: urlFor('postgres'), port, urlFor,
      async stop() {
        process.removeListener('exit', onExit);
        onExit();
      },
    };
  } catch (error) {
    const log = existsSync(join(dir, 'server.log')) ? readFileSync(join(dir, 'server.log'), 'utf8').slice(-2000) : '';
    onExit();
    const stderr = (error as { stderr?: Buffer }).stderr?.toString() ?? '';
    throw new Error(`PostgreSQL did not start: ${(error as Error).message}\n${stderr}\n${log}`);
  }
}

function ownerCommand(bin: string, args: string[]): [string, string[]] {
  return process.getuid?.() === 0 ? ['runuser', ['-u', 'postgres', '--', bin, ...args]] : [bin, args];
}

function uidOf(user: string): number {
  return Number(execFileSync('id', ['-u', user]).toString().trim());
}

function gidOf(user: string): number {
  return Number(execFileSync('id', ['-g', user]).toString().trim());
}

/** Runs one statement on the maintenance database. */
export async function adminQuery(cluster: PostgresCluster, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: cluster.url });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

export interface FreshDatabase {
  url: string;
  drop(): Promise<void>;
}

/**
 * Fresh migrated databases, fast: the first call migrates a template database once; each call
 * copies it (`CREATE DATABASE … TEMPLATE`, no migration run per test).
 */
const templates = new WeakMap<PostgresCluster, Promise<void>>();
let databases = 0;

export function databaseFactory(cluster: PostgresCluster): () => Promise<FreshDatabase> {
  const migrateTemplate = async () => {
    await adminQuery(cluster, 'CREATE DATABASE mandate_template');
    const store = await createPostgresStore({ url: cluster.urlFor('mandate_template'), poolSize: 1 });
    await store.close();
  };
  return async () => {
    if (!templates.has(cluster)) templates.set(cluster, migrateTemplate());
    await templates.get(cluster);
    const name = `mandate_t${process.pid}_${++databases}`;
    await adminQuery(cluster, `CREATE DATABASE ${name} TEMPLATE mandate_template`);
    return { url: cluster.urlFor(name), drop: () => adminQuery(cluster, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
  };
}

/**
 * Empties every table of the store's schema (not the migration bookkeeping): a fresh database to
 * the conformance suites in one transaction. DELETE, not TRUNCATE: TRUNCATE swaps every table's
 * files and fsyncs them (about 1.2 s here against 70 ms). Foreign keys are not checked meanwhile
 * (`session_replication_role = replica`, the test cluster's superuser only), so order is free.
 * Sequences keep counting, which the ports allow (cursors only have to grow).
 */
export async function emptyDatabase(db: Kysely<any>): Promise<void> {
  const tables = await sql<{ name: string }>`
    select c.relname as name from pg_class c join pg_namespace n on n.oid = c.relnamespace
    where n.nspname = current_schema() and c.relkind in ('r', 'p') and not c.relispartition
      and c.relname not like 'kysely_migration%'`.execute(db);
  await db.transaction().execute(async (trx) => {
    await sql`set local session_replication_role = replica`.execute(trx);
    for (const { name } of tables.rows) await sql.raw(`delete from "${name}"`).execute(trx);
  });
}
