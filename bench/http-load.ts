/**
 * Shared closed-loop HTTP load for the server cases: start a server in its own process pinned to
 * CPU 0, drive it with N requests in flight from this process (pinned to CPU 1 by `npm run bench`),
 * warm-up then timed runs, medians, p99, server CPU-seconds from /proc/<pid>/stat, non-2xx count,
 * and stop the server by its PID. Every loop is bounded by time.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { sign, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { CaseResult, Plan, RunFigure } from './measure.ts';

/**
 * Requests in flight per case: 50, as `wrk -c50` would keep open (the method the bench follows). Until
 * 2026-11-24 it was 16; results before then were measured with 16 (`settings.concurrency` in each file).
 */
export const CONCURRENCY = 50;

export interface HttpRunFigure extends RunFigure {
  failed: number;
  p99Ms: number;
  /** Load generator (this process) CPU-seconds during the run: a saturated generator shows here. */
  loadCpuSeconds: number;
}

export interface HttpCaseResult extends CaseResult {
  runs: HttpRunFigure[];
  /** Non-2xx responses over the timed runs (warm-up excluded); the target is 0. */
  nonOk: number;
  /** Median over the runs of each run's p99 latency. */
  p99Ms: number;
  /** Status and body of the first non-2xx response seen (warm-up included), if any. */
  firstFailure?: { status: number; body: string };
}

export interface HttpCase {
  name: string;
  unit: string;
  plan: Plan;
  /** PID of the server process: its CPU-seconds are read from /proc/<pid>/stat. */
  pid: number;
  concurrency?: number;
  /** Server CPU-seconds so far, instead of /proc/<pid>/stat of `pid` (several processes: bench/replicas.ts). */
  cpuSeconds?: () => number;
  /** Sends one fresh request; the loader consumes the body. */
  send: () => Promise<Response>;
  /** Called after each timed run with the body of that run's first 2xx response (e.g. to verify a token). */
  checkSample?: (body: string) => Promise<void>;
}

export function cpuSecondsOf(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime + stime in clock ticks (100 Hz)
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

async function loadFor(ms: number, c: HttpCase, state: { firstFailure?: { status: number; body: string } }) {
  const deadline = performance.now() + ms;
  const serverCpu = c.cpuSeconds ?? (() => cpuSecondsOf(c.pid));
  const cpu0 = serverCpu();
  const load0 = process.cpuUsage();
  const t0 = performance.now();
  let ok = 0;
  let failed = 0;
  let sample: string | undefined;
  const latencies: number[] = [];
  const worker = async () => {
    while (performance.now() < deadline) {
      const start = performance.now();
      const response = await c.send();
      const wantBody = (response.ok && sample === undefined) || (!response.ok && state.firstFailure === undefined);
      const body = wantBody ? await response.text() : (await response.arrayBuffer(), '');
      latencies.push(performance.now() - start);
      if (response.ok) {
        ok++;
        if (sample === undefined) sample = body;
      } else {
        failed++;
        state.firstFailure ??= { status: response.status, body };
      }
    }
  };
  await Promise.all(Array.from({ length: c.concurrency ?? CONCURRENCY }, worker));
  const seconds = (performance.now() - t0) / 1000;
  const cpuSeconds = serverCpu() - cpu0;
  const load = process.cpuUsage(load0);
  latencies.sort((a, b) => a - b);
  const run: HttpRunFigure = {
    ops: ok, seconds, perSecond: ok / seconds, cpuSeconds, perCpuSecond: ok / Math.max(cpuSeconds, 0.01),
    failed, p99Ms: latencies[Math.floor(latencies.length * 0.99)] ?? 0, loadCpuSeconds: (load.user + load.system) / 1e6,
  };
  return { run, sample };
}

/** Warm-up, then `plan.runs` timed runs; checks one sample per run with `checkSample`. */
export async function closedLoopHttp(c: HttpCase): Promise<HttpCaseResult> {
  const state: { firstFailure?: { status: number; body: string } } = {};
  await loadFor(c.plan.warmupMs, c, state);
  const runs: HttpRunFigure[] = [];
  for (let i = 0; i < c.plan.runs; i++) {
    const { run, sample } = await loadFor(c.plan.runMs, c, state);
    if (sample !== undefined && c.checkSample) await c.checkSample(sample);
    runs.push(run);
  }
  const rates = runs.map((r) => r.perSecond);
  const med = median(rates);
  const min = Math.min(...rates);
  const max = Math.max(...rates);
  return {
    name: c.name, unit: c.unit, runs, median: med, medianPerCpuSecond: median(runs.map((r) => r.perCpuSecond)),
    spread: { min, max, relative: (max - min) / med },
    nonOk: runs.reduce((n, r) => n + r.failed, 0), p99Ms: median(runs.map((r) => r.p99Ms)),
    ...(state.firstFailure ? { firstFailure: state.firstFailure } : {}),
  };
}

/**
 * Spawns `taskset -c 0 <node> <args>` (so the child's PID is the server's own) and resolves once
 * its stdout contains `ready`. Rejects if it exits first or is not ready within `timeoutMs`.
 */
export function startPinned(args: string[], ready: string, env: NodeJS.ProcessEnv = process.env, timeoutMs = 60_000): Promise<ChildProcess> {
  const child = spawn('taskset', ['-c', '0', process.execPath, ...args], { stdio: ['ignore', 'pipe', 'inherit'], env });
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => { child.kill('SIGTERM'); reject(new Error(`server not ready after ${timeoutMs} ms: ${out}`)); }, timeoutMs);
    child.stdout!.on('data', (d) => {
      out += d;
      if (out.includes(ready)) { clearTimeout(timer); resolve(child); }
    });
    child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`server exited with ${code}: ${out}`)); });
  });
}

/** Stops a child started by `startPinned` by its PID and waits for it to exit. */
export async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}

/** Compact ES256 JWT with node:crypto on a cached KeyObject: the same cheap signer for every case's load. */
export function signEs256(header: Record<string, unknown>, payload: Record<string, unknown>, key: KeyObject): string {
  const input = `${Buffer.from(JSON.stringify({ alg: 'ES256', ...header })).toString('base64url')}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}`;
  return `${input}.${sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' }).toString('base64url')}`;
}
