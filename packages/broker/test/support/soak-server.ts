/**
 * The soak's server side: the real `mandate serve` in its own process (unpinned: the soak measures
 * stability, not speed), its /metrics read the way Prometheus would, and its SQLite file read
 * read-only next to it (WAL allows a reader) for the DPoP replay cache and audit row counts.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Sqlite from 'better-sqlite3';
import { parseExposition } from './prometheus-text.ts';

const BIN = new URL('../../bin/mandate.js', import.meta.url).pathname;

export interface SoakServer {
  child: ChildProcess;
  /** The issuer (`http://localhost:<port>`): every `htu` and `aud` names it. */
  base: string;
  dataDir: string;
  configFile: string;
  output: () => string;
  /** The V8 heap in use after each full (mark-compact) GC, from the server's `--trace-gc` lines. */
  majorGcs: MajorGc[];
}

export interface MajorGc {
  at: number;
  /** Worker threads (tsx's loader thread among them) trace their own isolates. */
  isolate: string;
  heapAfterBytes: number;
}

/** The full GCs of the isolate that ran most of them: the main thread, which serves the load. */
export function mainIsolateGcs(gcs: MajorGc[]): MajorGc[] {
  const counts = new Map<string, number>();
  for (const gc of gcs) counts.set(gc.isolate, (counts.get(gc.isolate) ?? 0) + 1);
  const main = [...counts].sort((a, b) => b[1] - a[1])[0]?.[0];
  return gcs.filter((gc) => gc.isolate === main);
}

// V8's --trace-gc line for a full GC: "Mark-Compact 39.4 (42.3) -> 37.6 (44.6) MB, …"
// (used (committed) before -> used (committed) after).
const MARK_COMPACT = /Mark-Compact(?: \(reduce\))? [\d.]+ \([\d.]+\) -> ([\d.]+) \([\d.]+\) MB/;
// Every --trace-gc line starts with "[<pid>:<isolate address>]".
const TRACE_PREFIX = /^\[\d+:(0x[0-9a-f]+)\]\s+[\d.]+ ms: /;
const OUTPUT_KEPT = 64 * 1024;

/** Writes `config`, starts `mandate serve --port 0` and resolves once it prints its listening line. */
export async function startSoakServer(dir: string, config: Record<string, unknown>): Promise<SoakServer> {
  const dataDir = join(dir, 'data');
  const configFile = join(dir, 'config.json');
  writeFileSync(configFile, JSON.stringify(config));
  // --trace-gc: the heap after each full GC is the live heap, what a forced GC would show, read
  // without any hook in the product; the lines go to the server's stdout.
  const args = ['--trace-gc', BIN, 'serve', '--data', dataDir, '--config', configFile, '--port', '0', '--log-level', 'warn'];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  // A test cancelled by its timeout exits without its after() hooks: the server goes with it.
  const reap = () => void child.kill('SIGKILL');
  process.once('exit', reap);
  child.once('exit', () => process.off('exit', reap));
  let out = '';
  let partial = '';
  const majorGcs: MajorGc[] = [];
  const keep = (text: string) => void (out = (out + text).slice(-OUTPUT_KEPT));
  child.stdout!.on('data', (d: Buffer) => {
    const lines = (partial + d.toString()).split('\n');
    partial = lines.pop()!;
    for (const line of lines) {
      const isolate = TRACE_PREFIX.exec(line)?.[1];
      if (isolate === undefined) {
        keep(`${line}\n`);
        continue;
      }
      const gc = MARK_COMPACT.exec(line);
      if (gc) majorGcs.push({ at: Date.now(), isolate, heapAfterBytes: Number(gc[1]) * 2 ** 20 });
    }
  });
  child.stderr!.on('data', (d) => keep(String(d)));
  const base = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve did not start:\n${out}`)), 60_000);
    child.stdout!.on('data', () => {
      const match = /listening on \S+ \(issuer (\S+),/.exec(out);
      if (!match) return;
      clearTimeout(timer);
      resolve(match[1]!);
    });
    child.once('exit', (code) => reject(new Error(`serve exited with ${code}:\n${out}`)));
  });
  return { child, base, dataDir, configFile, output: () => out, majorGcs };
}

/** Stops the server by its PID (SIGTERM, graceful drain) and waits for it; SIGKILL after 10 s. */
export async function stopSoakServer(server: SoakServer): Promise<number | null> {
  const { child } = server;
  if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  const code = await exited;
  clearTimeout(timer);
  return code;
}

/** What one scrape of the server's /metrics says about the server process (never the test's). */
export interface ServerMetrics {
  heapUsedBytes: number;
  heapTotalBytes: number;
  rssBytes: number;
  externalBytes: number;
  dpopKeyCacheEntries: number;
}

export async function scrapeServer(base: string): Promise<ServerMetrics> {
  const response = await fetch(`${base}/metrics`);
  if (response.status !== 200) throw new Error(`/metrics answered ${response.status}`);
  const { samples } = parseExposition(await response.text());
  const read = (name: string) => {
    const value = samples.get(name);
    if (value === undefined) throw new Error(`/metrics has no ${name}`);
    return value;
  };
  return {
    heapUsedBytes: read('nodejs_heap_size_used_bytes'),
    heapTotalBytes: read('nodejs_heap_size_total_bytes'),
    rssBytes: read('process_resident_memory_bytes'),
    externalBytes: read('nodejs_external_memory_bytes'),
    dpopKeyCacheEntries: read('mandate_cache_entries{cache="dpop_keys"}'),
  };
}

/** Row counts in the server's SQLite file, read through a read-only connection of our own. */
export interface StoreReader {
  /** Live and not-yet-purged rows of the DPoP `jti` replay cache (`replay_cache`, namespace dpop). */
  dpopReplayRows(): number;
  replayRows(): number;
  auditEvents(type: string): number;
  /** The `jti` of every `token.issued` audit record. */
  issuedJtis(): Set<string>;
  close(): void;
}

export function openStoreReader(dataDir: string): StoreReader {
  const db = new Sqlite(join(dataDir, 'mandate.db'), { readonly: true, fileMustExist: true });
  db.pragma('busy_timeout = 5000');
  const count = (sql: string, ...params: unknown[]) => (db.prepare(sql).get(...params) as { n: number }).n;
  return {
    dpopReplayRows: () => count("SELECT count(*) AS n FROM replay_cache WHERE namespace = 'dpop'"),
    replayRows: () => count('SELECT count(*) AS n FROM replay_cache'),
    auditEvents: (type) => count('SELECT count(*) AS n FROM audit_events WHERE type = ?', type),
    issuedJtis: () => new Set((db.prepare("SELECT jti FROM audit_events WHERE type = 'token.issued'").all() as Array<{ jti: string }>).map((r) => r.jti)),
    close: () => db.close(),
  };
}

/** `mandate audit verify` on the data directory (a separate process, as an operator runs it). */
export function verifyAuditOffline(server: SoakServer): { exitCode: number; output: string } {
  const run = spawnSync(process.execPath, [BIN, 'audit', 'verify', '--data', server.dataDir, '--config', server.configFile], { encoding: 'utf8', timeout: 300_000 });
  return { exitCode: run.status ?? -1, output: `${run.stdout}${run.stderr}` };
}

/** Server CPU-seconds so far (utime + stime from /proc, 100 Hz ticks); null off Linux. */
export function serverCpuSeconds(pid: number): number | null {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return null;
  }
}
