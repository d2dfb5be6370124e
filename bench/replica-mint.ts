/**
 * P9: server CPU-seconds per attested mint, (b) two replicas on one PostgreSQL ÷ (a) one replica
 * on SQLite. The load is the attested-mint case's (bench/attested-mint.ts: token exchange, fresh
 * client assertion and DPoP proof per request, 50 in flight, durable audit); in (b) the requests
 * alternate between the replicas. CPU-seconds are those of every server process: the broker(s)
 * and, in (b), the postmaster and every backend it forked (bench/tree-cpu.ts), all on CPU 0.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../packages/broker/test/support/postgres.ts';
import { CONCURRENCY, closedLoopHttp, stopChild, type HttpCaseResult } from './http-load.ts';
import { AUDIENCE, checkReplayRefused, exchangeRequest, prepareAgent, registerAgent, send, startMandate, tokenChecker } from './mandate-server.ts';
import type { Plan } from './measure.ts';
import { replicaConfig, toReplica, type ReplicaPair } from './replica-deployment.ts';
import { treeCpu } from './tree-cpu.ts';

export interface MintCpuCase extends HttpCaseResult {
  /** Per run: server CPU-seconds ÷ successful mints. */
  cpuSecondsPerMint: number[];
  medianCpuSecondsPerMint: number;
  /** Server CPU-seconds per second with no load (before the warm-up): pollers (SSF transmitter, change feed), autovacuum, … */
  idleCpuPerSecond: number;
  /** Processes counted at the end of the last run (brokers + postgres). */
  processes: number;
  /** Where the CPU went over warm-up and runs together, by process tree (replica A, replica B, postgres): shares summing to 1. */
  cpuShares?: Record<string, number>;
  replay: Awaited<ReturnType<typeof checkReplayRefused>>;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

function withCpuPerMint(result: HttpCaseResult, idleCpuPerSecond: number, processes: number, replay: MintCpuCase['replay']): MintCpuCase {
  const perMint = result.runs.map((r) => r.cpuSeconds / Math.max(r.ops, 1));
  return { ...result, cpuSecondsPerMint: perMint, medianCpuSecondsPerMint: median(perMint), idleCpuPerSecond, processes, replay };
}

/** CPU-seconds per second of the trees over `ms` without load. */
async function idleCpu(roots: number[], ms: number): Promise<number> {
  const before = treeCpu(roots).cpuSeconds;
  const t0 = performance.now();
  await new Promise((resolve) => setTimeout(resolve, ms));
  return (treeCpu(roots).cpuSeconds - before) / ((performance.now() - t0) / 1000);
}

/** (a) One `mandate serve` on SQLite, same config as the replicas but for the store. */
export async function singleSqliteMint(plan: Plan, ttlSeconds: number): Promise<MintCpuCase> {
  const dir = mkdtempSync(join(tmpdir(), 'mandate-bench-sqlite-'));
  const dataDir = join(dir, 'data');
  const { child, base } = await startMandate(dir, await freePort(), dataDir, replicaConfig(ttlSeconds, { audit: { chain: 'replica-a' } }));
  try {
    const agent = await prepareAgent(base, dataDir, await registerAgent(base, dataDir, `bench-p9-sqlite-${Date.now()}`), true);
    const roots = [child.pid!];
    const idle = await idleCpu(roots, Math.min(plan.runMs, 5_000));
    const result = await closedLoopHttp({
      name: `attested mint, 1 replica on SQLite (${CONCURRENCY} in flight)`, unit: 'mints/s', plan, pid: child.pid!,
      cpuSeconds: () => treeCpu(roots).cpuSeconds, send: () => send(exchangeRequest(base, agent)), checkSample: tokenChecker(base, agent, AUDIENCE, false),
    });
    return withCpuPerMint(result, idle, treeCpu(roots).processes, await checkReplayRefused((reuse) => exchangeRequest(base, agent, reuse)));
  } finally {
    await stopChild(child);
    rmSync(dir, { recursive: true, force: true });
  }
}

/** (b) The two replicas of `pair` on one PostgreSQL, requests alternating A, B, A, … */
export async function replicaPairMint(plan: Plan, pair: ReplicaPair, postmasterPid: number): Promise<MintCpuCase> {
  const agent = await prepareAgent(pair.issuer, pair.a.dataDir, await registerAgent(pair.a.base, pair.a.dataDir, `bench-p9-pg-${Date.now()}`), true);
  const roots = [pair.a.child.pid!, pair.b.child.pid!, postmasterPid];
  const idle = await idleCpu(roots, Math.min(plan.runMs, 5_000));
  let n = 0;
  const parts = { replicaA: [pair.a.child.pid!], replicaB: [pair.b.child.pid!], postgres: [postmasterPid] };
  const partsBefore = Object.fromEntries(Object.entries(parts).map(([name, pids]) => [name, treeCpu(pids).cpuSeconds]));
  const result = await closedLoopHttp({
    name: `attested mint, 2 replicas on PostgreSQL (${CONCURRENCY} in flight, alternating)`, unit: 'mints/s', plan, pid: pair.a.child.pid!,
    cpuSeconds: () => treeCpu(roots).cpuSeconds,
    send: () => send(toReplica(exchangeRequest(pair.issuer, agent), ++n % 2 === 0 ? pair.a : pair.b)),
    checkSample: tokenChecker(pair.issuer, agent, AUDIENCE, false),
  });
  // The proof replay goes to the other replica: single-use `jti` holds across replicas (shared replay store).
  let k = 0;
  const replay = await checkReplayRefused((reuse) => toReplica(exchangeRequest(pair.issuer, agent, reuse), k++ === 0 ? pair.a : pair.b));
  const spent = Object.fromEntries(Object.entries(parts).map(([name, pids]) => [name, treeCpu(pids).cpuSeconds - partsBefore[name]!]));
  const total = Object.values(spent).reduce((sum, x) => sum + x, 0);
  const cpuShares = Object.fromEntries(Object.entries(spent).map(([name, x]) => [name, total > 0 ? x / total : 0]));
  return { ...withCpuPerMint(result, idle, treeCpu(roots).processes, replay), cpuShares };
}
