/**
 * Latency of the product's own store queries at scale: warm-up, then rounds of random lookups one
 * at a time through the store ports, each timed with process.hrtime.bigint (ns, reported in ms).
 * Every loop is bounded by count and by time. `explainPort` records the SQL a port call actually runs and
 * asks SQLite for its plan (EXPLAIN QUERY PLAN), so a slow query can be traced to its index.
 */
import type Sqlite from 'better-sqlite3';

export interface LatencyRound {
  lookups: number;
  p50: number;
  p99: number;
}

export interface LatencyFigure {
  name: string;
  unit: 'ms';
  /** Timed lookups over all rounds. */
  lookups: number;
  /** Lookups that returned nothing (the samples are of stored keys, so the target is 0). */
  empty: number;
  /** Medians over the rounds of each round's p50 and p99 (as bench/measure.ts does for rates). */
  p50: number;
  p99: number;
  mean: number;
  max: number;
  rounds: LatencyRound[];
}

export interface LookupPlan {
  warmup: number;
  /** Timed lookups per round. */
  lookups: number;
  rounds: number;
  /** Per case, for warm-up and every round together. */
  maxMs: number;
  /** Checked every YIELD_EVERY lookups, after letting the event loop run (signal handlers). */
  signal?: AbortSignal;
}

/** Port calls resolve as microtasks only: without a pause now and then, no signal is ever handled. */
const YIELD_EVERY = 256;

const NS_PER_MS = 1e6;

async function pause(signal?: AbortSignal): Promise<void> {
  await new Promise(setImmediate);
  signal?.throwIfAborted();
}

/** Found something: a row, or a non-empty list. */
const isFound = (value: unknown) => (Array.isArray(value) ? value.length > 0 : value !== null && value !== undefined);
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? Number.NaN;
const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))] ?? Number.NaN;

/** One round: up to `count` timed lookups before `deadline`, in ms, sorted. */
async function timeRound(count: number, deadline: number, lookup: () => Promise<unknown>, signal?: AbortSignal): Promise<{ ms: number[]; empty: number }> {
  const ms: number[] = [];
  let empty = 0;
  for (let i = 0; i < count && performance.now() < deadline; i++) {
    if (i % YIELD_EVERY === YIELD_EVERY - 1) await pause(signal);
    const t0 = process.hrtime.bigint();
    const found = await lookup();
    ms.push(Number(process.hrtime.bigint() - t0) / NS_PER_MS);
    if (!isFound(found)) empty++;
  }
  return { ms: ms.sort((a, b) => a - b), empty };
}

/**
 * Runs `lookup` `plan.warmup` times untimed, then `plan.rounds` rounds of up to `plan.lookups`
 * timed calls each, all within `plan.maxMs`.
 *
 * @example
 * const figure = await timeLookups('agent by id', plan, () => store.agents.get(randomAgentId()));
 */
export async function timeLookups(name: string, plan: LookupPlan, lookup: () => Promise<unknown>): Promise<LatencyFigure> {
  const deadline = performance.now() + plan.maxMs;
  for (let i = 0; i < plan.warmup && performance.now() < deadline; i++) {
    if (i % YIELD_EVERY === YIELD_EVERY - 1) await pause(plan.signal);
    await lookup();
  }
  const rounds: LatencyRound[] = [];
  const all: number[] = [];
  let empty = 0;
  for (let r = 0; r < plan.rounds && performance.now() < deadline; r++) {
    const round = await timeRound(plan.lookups, deadline, lookup, plan.signal);
    rounds.push({ lookups: round.ms.length, p50: quantile(round.ms, 0.5), p99: quantile(round.ms, 0.99) });
    all.push(...round.ms);
    empty += round.empty;
  }
  return {
    name, unit: 'ms', lookups: all.length, empty, p50: median(rounds.map((r) => r.p50)), p99: median(rounds.map((r) => r.p99)),
    mean: all.reduce((s, v) => s + v, 0) / all.length, max: Math.max(...all), rounds,
  };
}

export interface QueryPlan {
  sql: string;
  plan: string[];
}

/**
 * Runs `call` once while recording every statement it reads with (and its parameters), then
 * returns each statement's EXPLAIN QUERY PLAN. The store caches prepared statements, so the
 * recording sits on the Statement prototype for the duration of the call, not on `prepare`.
 *
 * @example
 * const plans = await explainPort(store.raw.raw, () => store.audit.byJti(jti));
 */
export async function explainPort(raw: Sqlite.Database, call: () => Promise<unknown>): Promise<QueryPlan[]> {
  type Reader = { source: string; all: (...params: unknown[]) => unknown[] };
  const proto = Object.getPrototypeOf(raw.prepare('SELECT 1')) as Reader;
  const all = proto.all;
  const seen: { sql: string; params: unknown[] }[] = [];
  proto.all = function record(this: Reader, ...params: unknown[]) {
    seen.push({ sql: this.source, params });
    return all.apply(this, params);
  };
  try {
    await call();
  } finally {
    proto.all = all;
  }
  const explain = (sql: string, params: unknown[]) => (raw.prepare(`EXPLAIN QUERY PLAN ${sql}`) as unknown as Reader).all(...params) as { detail: string }[];
  return seen.map(({ sql, params }) => ({ sql, plan: explain(sql, params).map((row) => row.detail) }));
}
