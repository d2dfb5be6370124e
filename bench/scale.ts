/**
 * `npm run bench:scale [-- --quick] [-- --agents N --events N]`: BENCH.md P7, the store at scale.
 * Builds a SQLite store of 1,000,000 agents and 10,000,000 chained audit events (bench/scale-build.ts)
 * in a temp dir, times the product's own queries through the store ports (P7a agent by id, P7b a
 * mandate's history, P7c event by jti, and a 100-row time window), then the attested HTTP mint with
 * that store as the broker's data dir ÷ the same on an empty store, back to back (P7d). Writes
 * bench/results/<UTC-ISO>-scale[-quick].json and prints a markdown table. The temp dir is deleted
 * afterwards, also on failure and on SIGINT/SIGTERM (the phase under way stops at its next
 * checkpoint, a started broker is stopped by its PID; a second signal exits at once).
 *
 * Other flags: `--lookups N` (timed lookups per query and round; 3 rounds), `--mint-plan
 * full|quick|tiny`, `--mint-pairs N` (big/empty pairs in ABBA order; 2, or 1 with --quick), `--dir D` (parent of the temp dir, default the OS temp dir), `--out D` (results dir).
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statfsSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createSqliteStore } from '../packages/broker/src/store/sqlite/index.ts';
import { attestedMint } from './attested-mint.ts';
import { FULL_PLAN, QUICK_PLAN, type Plan } from './measure.ts';
import { buildScaleStore, type BuiltStore } from './scale-build.ts';
import { explainPort, timeLookups, type LookupPlan } from './scale-lookups.ts';
import { poolMints, scaleTable, writeScaleResult, type ScaleFigures } from './scale-report.ts';
import { agentId } from './scale-rows.ts';

/** Bytes per audit row and per agent (with its two owner/approver links), before indexes. */
const EVENT_ROW_BYTES = 490;
const AGENT_ROW_BYTES = 450;
const HOUR_MS = 3_600_000;
const TINY_PLAN: Plan = { warmupMs: 300, runMs: 1_000, runs: 1 };

const { values: flags } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false }, agents: { type: 'string' }, events: { type: 'string' }, lookups: { type: 'string' },
    'mint-plan': { type: 'string' }, 'mint-pairs': { type: 'string' }, dir: { type: 'string' }, out: { type: 'string' }, mmap: { type: 'string' },
  },
});

function fail(message: string): never {
  throw new Error(message);
}

function count(name: string, fallback: number): number {
  const raw = flags[name as 'agents'];
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < 1) fail(`--${name} must be a positive integer, got ${raw}`);
  return value;
}

const quick = flags.quick ?? false;
const lookups = count('lookups', quick ? 500 : 5_000);
const sizes = { agents: count('agents', quick ? 10_000 : 1_000_000), events: count('events', quick ? 100_000 : 10_000_000), sampleSize: lookups };
const lookupPlan: LookupPlan = { warmup: Math.ceil(lookups / 5), lookups, rounds: 3, maxMs: quick ? 15_000 : 120_000 };
const mintPlans: Record<string, Plan> = { full: FULL_PLAN, quick: QUICK_PLAN, tiny: TINY_PLAN };
const mintPlan = mintPlans[flags['mint-plan'] ?? (quick ? 'quick' : 'full')] ?? fail(`--mint-plan must be full, quick or tiny, got ${flags['mint-plan']}`);
const mintPairs = count('mint-pairs', quick ? 1 : 2);
// `store.mmapSizeMb` for the lookups and both mint servers (docs/deployment.md "Large stores"); --mmap 0 measures without; 2047 MiB is the most the bundled SQLite maps.
const mmapSizeMb = flags.mmap === '0' ? 0 : count('mmap', 2047);
// Bounds the event load: 10M events take minutes; an hour means something is wrong.
const buildDeadline = performance.now() + (quick ? 120_000 : 3_600_000);
const log = (line: string) => process.stderr.write(`${line}\n`);

/** False (with the reason logged) when the target file system cannot hold the store twice over (data, indexes, WAL). */
function hasDiskFor(dir: string): boolean {
  const need = (sizes.events * EVENT_ROW_BYTES + sizes.agents * AGENT_ROW_BYTES) * 2 + 64 * 2 ** 20;
  const { bavail, bsize } = statfsSync(dir);
  const free = bavail * bsize;
  const gib = (n: number) => `${(n / 2 ** 30).toFixed(1)} GiB`;
  log(`disk: ${gib(free)} free in ${dir}, about ${gib(need)} needed`);
  if (free < need) log(`refusing to start: not enough free disk in ${dir} (choose another with --dir, or fewer --events)`);
  return free >= need;
}

/** Bytes allocated on disk under `dir` (st_blocks), for the report. */
function diskUsed(dir: string): number {
  return readdirSync(dir, { recursive: true }).reduce<number>((sum, name) => sum + statSync(join(dir, String(name))).blocks * 512, 0);
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer().once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

const pickFrom = <T>(values: readonly T[]): T => values[Math.floor(Math.random() * values.length)]!;

/** P7a–c and the window: random stored keys through the store ports, warm (the file was just written). */
async function measureLookups(built: BuiltStore, signal: AbortSignal) {
  const { plan, samples } = built;
  if (samples.mandateIds.length === 0 || samples.jtis.length === 0) throw new Error('too few events for a complete mandate history: raise --events');
  const store = await createSqliteStore({ path: built.dbPath, mmapSizeMb });
  // A window of at least an hour and ~200 expected rows, so `limit 100` always has a full page.
  const windowMs = Math.max(HOUR_MS, Math.ceil((200 * (plan.spanEnd - plan.spanStart)) / plan.events));
  const windowFrom = () => plan.spanStart + Math.floor(Math.random() * (plan.spanEnd - plan.spanStart - windowMs));
  const ports = {
    agent_by_id: ['agent by id (agents.get)', () => store.agents.get(agentId(Math.floor(Math.random() * plan.agents)))],
    audit_by_mandate: ["a mandate's history (audit.byMandate, limit 100)", () => store.audit.byMandate(pickFrom(samples.mandateIds), 100)],
    audit_by_jti: ['event by jti (audit.byJti)', () => store.audit.byJti(pickFrom(samples.jtis))],
    audit_window_100: ['100-row time window (audit.window, limit 100)', () => { const from = windowFrom(); return store.audit.window(from, from + windowMs, 100); }],
  } as const;
  try {
    const figures: Record<string, Awaited<ReturnType<typeof timeLookups>>> = {};
    const plans: Record<string, Awaited<ReturnType<typeof explainPort>>> = {};
    for (const [key, [name, lookup]] of Object.entries(ports)) {
      plans[key] = await explainPort(store.raw.raw, lookup);
      figures[key] = await timeLookups(name, { ...lookupPlan, signal }, lookup);
      log(`  ${key}: p50 ${figures[key].p50.toFixed(3)} ms, p99 ${figures[key].p99.toFixed(3)} ms`);
    }
    const sqliteVersion = (store.raw.raw.prepare('SELECT sqlite_version() AS v').get() as { v: string }).v;
    return { figures: figures as Pick<ScaleFigures, keyof typeof ports>, plans, sqliteVersion };
  } finally {
    await store.close();
  }
}

/**
 * P7d: the attested mint on the big store and on an empty one, back to back, in ABBA order
 * (big, empty, empty, big, …) so that a drift in the machine's other load weighs on both alike.
 */
async function measureMints(dataDir: string, port: number, onServer: (child: ChildProcess) => void, signal: AbortSignal) {
  const runs: Record<'big' | 'empty', Awaited<ReturnType<typeof attestedMint>>[]> = { big: [], empty: [] };
  const order = Array.from({ length: mintPairs }, (_, i) => (i % 2 === 0 ? ['big', 'empty'] as const : ['empty', 'big'] as const)).flat();
  for (const kind of order) {
    log(`attested HTTP mint on the ${kind} store`);
    runs[kind].push(await attestedMint(mintPlan, port, { ...(kind === 'big' ? { dataDir } : {}), onServer, store: { mmapSizeMb } }));
    signal.throwIfAborted();
  }
  return { big: poolMints(runs.big), empty: poolMints(runs.empty) };
}

/** Builds, measures, writes; every phase stops at the next checkpoint once `signal` is aborted. */
async function runScale(work: string, signal: AbortSignal, servers: { current?: ChildProcess }): Promise<void> {
  const dataDir = join(work, 'data');
  log(`building ${sizes.agents.toLocaleString('en')} agents and ${sizes.events.toLocaleString('en')} audit events in ${work}`);
  const built = await buildScaleStore(dataDir, sizes, { deadlineMs: buildDeadline, signal, log });
  const build = { ...built.figures, diskBytes: diskUsed(work), unit: { seconds: 's', dbBytes: 'bytes', diskBytes: 'bytes', avgEventRowBytes: 'bytes' } } as const;
  log('lookups:');
  const lookupsDone = await measureLookups(built, signal);
  const port = Number(process.env.BENCH_PORT ?? (await freePort()));
  // A server that finishes starting after an interrupt is stopped at once; the running one by the handler.
  const onServer = (child: ChildProcess) => {
    servers.current = child;
    if (signal.aborted) child.kill('SIGTERM');
  };
  const { big, empty } = await measureMints(dataDir, port, onServer, signal);
  const figures: ScaleFigures = { build, ...lookupsDone.figures, attested_http_mint_big_store: big, attested_http_mint_empty_store: empty };
  const { file } = writeScaleResult({ quick, ...(flags.out ? { outDir: flags.out } : {}), mintPlan, sqliteVersion: lookupsDone.sqliteVersion, figures, plans: lookupsDone.plans, loadAtStart, mmapSizeMb });
  process.stdout.write(scaleTable(figures, file));
  for (const c of [big, empty]) {
    if (c.nonOk > 0 || c.firstFailure) {
      process.stdout.write(`${c.name}: ${c.nonOk} non-2xx in the timed runs; first failure ${c.firstFailure?.status}: ${c.firstFailure?.body}\n`);
      process.exitCode = 1;
    }
  }
}

const loadAtStart = loadavg();
const parent = flags.dir ?? tmpdir();
if (!hasDiskFor(parent)) process.exit(1);
const work = mkdtempSync(join(parent, 'mandate-scale-'));
const interrupt = new AbortController();
const servers: { current?: ChildProcess } = {};
const onSignal = (signal: NodeJS.Signals) => {
  if (interrupt.signal.aborted) {
    // A second signal: stop waiting for the current phase.
    rmSync(work, { recursive: true, force: true });
    process.exit(130);
  }
  log(`${signal}: stopping at the next checkpoint, then deleting ${work}`);
  interrupt.abort();
  const server = servers.current;
  if (server && server.exitCode === null && server.signalCode === null) server.kill('SIGTERM');
};
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);
try {
  await runScale(work, interrupt.signal, servers);
} catch (error) {
  if (!interrupt.signal.aborted) throw error;
  log(`interrupted (${error instanceof Error ? error.message : String(error)})`);
  process.exitCode = 130;
} finally {
  rmSync(work, { recursive: true, force: true });
}
