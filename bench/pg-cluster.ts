/**
 * A throwaway PostgreSQL cluster for the replica benchmark, with every server process on CPU 0:
 * the postmaster is started under `taskset -c 0`, so each backend, the checkpointer and the WAL
 * writer it forks inherit the affinity (BENCH.md P9: "all postgres processes pinned to CPU 0").
 * Same settings as the test harness (packages/broker/test/support/postgres.ts): loopback only,
 * trust auth, fsync on (a commit is durable, as the audit guarantee needs). `stop()` runs
 * `pg_ctl stop -m fast` on its data directory (never by process name) and deletes the temp dir.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chownSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { adminQuery, freePort, postgresBinDir } from '../packages/broker/test/support/postgres.ts';

export interface PinnedCluster {
  /** `postgres://postgres@127.0.0.1:<port>/mandate`: the database the replicas share. */
  url: string;
  /** The postmaster's PID (first line of `postmaster.pid`): the root of every postgres process. */
  postmasterPid: number;
  /** The server log (in the temp dir: gone after `stop()`). */
  logFile: string;
  stop(): void;
}

const asRoot = process.getuid?.() === 0;
/** initdb and postgres refuse to run as root: run them as `postgres` then. */
const owner = (bin: string, args: string[]): [string, string[]] => (asRoot ? ['runuser', ['-u', 'postgres', '--', bin, ...args]] : [bin, args]);
const idOf = (flag: string) => Number(execFileSync('id', [flag, 'postgres']).toString().trim());

export async function startPinnedPostgres(): Promise<PinnedCluster> {
  const bin = postgresBinDir();
  const dir = mkdtempSync(join(tmpdir(), 'mandate-bench-pg-'));
  const data = join(dir, 'data');
  if (asRoot) chownSync(dir, idOf('-u'), idOf('-g'));
  const stop = () => {
    spawnSync(...owner(join(bin, 'pg_ctl'), ['-D', data, '-m', 'fast', '-w', 'stop']), { stdio: 'ignore', timeout: 60_000 });
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    execFileSync(...owner(join(bin, 'initdb'), ['-D', data, '-U', 'postgres', '--auth=trust', '--no-sync', '-E', 'UTF8', '--locale=C']), { stdio: 'pipe', timeout: 60_000 });
    const port = await freePort();
    const settings = `-c listen_addresses=127.0.0.1 -p ${port} -k ${dir} -c max_connections=100 -c fsync=on`;
    const [file, argv] = owner(join(bin, 'pg_ctl'), ['-D', data, '-l', join(dir, 'server.log'), '-o', settings, '-w', '-t', '60', 'start']);
    execFileSync('taskset', ['-c', '0', file, ...argv], { stdio: 'pipe', timeout: 90_000 });
    const base = `postgres://postgres@127.0.0.1:${port}`;
    await adminQuery({ url: `${base}/postgres`, port, urlFor: (n) => `${base}/${n}`, stop: async () => {} }, 'CREATE DATABASE mandate');
    const postmasterPid = Number(readFileSync(join(data, 'postmaster.pid'), 'utf8').split('\n')[0]);
    return { url: `${base}/mandate`, postmasterPid, logFile: join(dir, 'server.log'), stop };
  } catch (error) {
    stop();
    throw error;
  }
}
