/**
 * The scale bench's result: `bench/results/<UTC-ISO>-scale[-quick].json` (ratios, figures, query
 * plans, versions, machine, commit) and a markdown table on stdout.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { environment } from './environment.ts';
import type { HttpCaseResult } from './http-load.ts';
import type { Plan } from './measure.ts';
import type { BuildFigures } from './scale-build.ts';
import type { LatencyFigure, QueryPlan } from './scale-lookups.ts';

const root = new URL('..', import.meta.url).pathname;

/** Several attestedMint calls of one store kind pooled: medians over all their runs. */
export interface PooledMint extends HttpCaseResult {
  /** How many attestedMint calls (each its own server start) the runs come from. */
  calls: number;
  replays: unknown[];
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? Number.NaN;

/**
 * Pools the runs of several calls of the same case (ABBA order against drift on a shared machine).
 *
 * @example
 * const big = poolMints([bigFirst, bigLast]);
 */
export function poolMints(cases: (HttpCaseResult & { replay?: unknown })[]): PooledMint {
  const runs = cases.flatMap((c) => c.runs);
  const rates = runs.map((r) => r.perSecond);
  const [min, max, med] = [Math.min(...rates), Math.max(...rates), median(rates)];
  const firstFailure = cases.find((c) => c.firstFailure)?.firstFailure;
  return {
    name: cases[0]!.name, unit: cases[0]!.unit, runs, median: med, medianPerCpuSecond: median(runs.map((r) => r.perCpuSecond)),
    spread: { min, max, relative: (max - min) / med }, nonOk: cases.reduce((n, c) => n + c.nonOk, 0), p99Ms: median(runs.map((r) => r.p99Ms)),
    ...(firstFailure ? { firstFailure } : {}), calls: cases.length, replays: cases.map((c) => c.replay),
  };
}

export interface ScaleFigures {
  build: BuildFigures & { diskBytes: number; unit: { seconds: 's'; dbBytes: 'bytes'; diskBytes: 'bytes'; avgEventRowBytes: 'bytes' } };
  agent_by_id: LatencyFigure;
  audit_by_mandate: LatencyFigure;
  audit_by_jti: LatencyFigure;
  audit_window_100: LatencyFigure;
  attested_http_mint_big_store: PooledMint;
  attested_http_mint_empty_store: PooledMint;
}

/** BENCH.md P7: p99 latencies in ms (targets ≤ 0.1 / ≤ 1 / ≤ 0.1) and the mint-rate ratio (target ≥ 0.9). */
export const TARGETS = { P7a: '≤ 0.1 ms p99', P7b: '≤ 1 ms p99', P7c: '≤ 0.1 ms p99', P7c_window: 'none set (reported)', P7d: '≥ 0.9', P7d_per_cpu: 'none set (reported)' } as const;

export function scaleRatios(f: ScaleFigures) {
  return {
    P7a: f.agent_by_id.p99,
    P7b: f.audit_by_mandate.p99,
    P7c: f.audit_by_jti.p99,
    P7c_window: f.audit_window_100.p99,
    P7d: f.attested_http_mint_big_store.median / f.attested_http_mint_empty_store.median,
    // The same per server CPU-second: steadier than req/s when the machine is shared.
    P7d_per_cpu: f.attested_http_mint_big_store.medianPerCpuSecond / f.attested_http_mint_empty_store.medianPerCpuSecond,
  };
}

function scaleEnvironment(plan: Plan) {
  const version = (name: string) => (JSON.parse(readFileSync(join(root, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;
  return { ...environment(plan), versions: { better_sqlite3: version('better-sqlite3'), kysely: version('kysely') } };
}

export interface ScaleResultInput {
  quick: boolean;
  outDir?: string;
  mintPlan: Plan;
  sqliteVersion: string;
  figures: ScaleFigures;
  plans: Record<string, QueryPlan[]>;
  /** os.loadavg() when the run started: others' load on a shared machine shows in every p99. */
  loadAtStart: number[];
  /** `store.mmapSizeMb` of the lookups and of both mint servers (0: off). */
  mmapSizeMb: number;
}

/** Writes the JSON and returns its path and the result. */
export function writeScaleResult(input: ScaleResultInput) {
  const at = new Date().toISOString();
  const env = scaleEnvironment(input.mintPlan);
  const ratios = scaleRatios(input.figures);
  const result = {
    at, quick: input.quick, ...env, settings: { storeMmapSizeMb: input.mmapSizeMb }, loadAverage: { start: input.loadAtStart, end: loadavg() }, versions: { ...env.versions, sqlite: input.sqliteVersion },
    ratios, units: { P7a: 'ms', P7b: 'ms', P7c: 'ms', P7c_window: 'ms', P7d: 'ratio', P7d_per_cpu: 'ratio' }, targets: TARGETS,
    figures: input.figures, queryPlans: input.plans,
  };
  const dir = input.outDir ?? join(root, 'bench/results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${at.replaceAll(':', '-')}-scale${input.quick ? '-quick' : ''}.json`);
  writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
  return { file, result };
}

const latencyRow = (key: string, f: LatencyFigure, target: string) =>
  `| ${key} | ${f.name} | ${f.p50.toFixed(3)} ms | ${f.p99.toFixed(3)} ms | ${f.lookups}${f.empty ? ` (${f.empty} empty)` : ''} | ${target} |`;

/** The markdown summary printed after a run. */
export function scaleTable(f: ScaleFigures, file: string): string {
  const r = scaleRatios(f);
  const b = f.build;
  const gib = (bytes: number) => `${(bytes / 2 ** 30).toFixed(2)} GiB`;
  const mint = (name: string, c: PooledMint) => `| ${name} | ${c.median.toFixed(0)} ${c.unit} | ${c.spread.min.toFixed(0)}–${c.spread.max.toFixed(0)} (${c.runs.length} runs, ${c.calls} server start${c.calls === 1 ? '' : 's'}) | ${c.p99Ms.toFixed(1)} ms | ${c.nonOk} | ${c.medianPerCpuSecond.toFixed(0)} |`;
  return [
    `Store: ${b.agents.toLocaleString('en')} agents, ${b.humans.toLocaleString('en')} humans, ${b.events.toLocaleString('en')} audit events on ${b.chains} chains over ${b.spanDays} days; ` +
      `mean audit row ${b.avgEventRowBytes.toFixed(0)} B; built in ${b.seconds.toFixed(0)} s (${Object.entries(b.phases).map(([k, v]) => `${k} ${v.toFixed(0)} s`).join(', ')}); database ${gib(b.dbBytes)}, disk used ${gib(b.diskBytes)}`, '',
    '| Key | Query (store port) | p50 | p99 | Lookups | Target |', '|---|---|---|---|---|---|',
    latencyRow('P7a', f.agent_by_id, TARGETS.P7a), latencyRow('P7b', f.audit_by_mandate, TARGETS.P7b),
    latencyRow('P7c', f.audit_by_jti, TARGETS.P7c), latencyRow('P7c_window', f.audit_window_100, TARGETS.P7c_window), '',
    '| Attested HTTP mint | Median | Range | Median p99 | Non-2xx | Per server CPU-second |', '|---|---|---|---|---|---|',
    mint('big store', f.attested_http_mint_big_store), mint('empty store', f.attested_http_mint_empty_store), '',
    '| Ratio | Value |', '|---|---|', `| P7d (attested mint rate, big store ÷ empty store; target ${TARGETS.P7d}) | ${r.P7d.toFixed(3)} |`,
    `| P7d_per_cpu (the same, mints per server CPU-second) | ${r.P7d_per_cpu.toFixed(3)} |`, '',
    `written ${file}`, '',
  ].join('\n');
}
