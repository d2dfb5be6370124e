/**
 * `npm run bench:replicas [-- --quick]`: BENCH.md P8 and P9 across two replicas on PostgreSQL, in
 * one run (bench/README.md "Replicas"):
 *
 * 1. P9 (a): attested mints against one `mandate serve` on SQLite (CPU 0), its CPU-seconds per mint;
 * 2. a throwaway PostgreSQL whose postmaster starts under `taskset -c 0`, and two replicas on it
 *    (each its own process on CPU 0);
 * 3. P9 (b): the same load alternating between the replicas, CPU-seconds of both replicas and every
 *    postgres process per mint; P9 = (b) ÷ (a);
 * 4. P8: revoke on A (admin API) → first refused use at an SDK resource server trusting B, in
 *    status-list mode (ttl `--ttl`) and push mode (SSF stream registered at B).
 *
 * This process (load, resource server) runs on CPU 1 (`taskset -c 1` in the npm script). Every
 * process it starts is stopped by its PID (PostgreSQL by `pg_ctl stop` on its data dir) and every
 * temp dir deleted, also on SIGINT/SIGTERM.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createVerifier } from '@mandate/sdk';
import { AUDIENCE } from './mandate-server.ts';
import { CONCURRENCY } from './http-load.ts';
import { FULL_PLAN, QUICK_PLAN } from './measure.ts';
import { environment } from './environment.ts';
import { startPinnedPostgres, type PinnedCluster } from './pg-cluster.ts';
import { startReplicas, type ReplicaPair } from './replica-deployment.ts';
import { replicaPairMint, singleSqliteMint } from './replica-mint.ts';
import { measureMode, pushEndpoint, RS_URL, summary, workerAgent } from './replica-propagation.ts';
import { replicasTable } from './replicas-report.ts';

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false }, revocations: { type: 'string' }, workers: { type: 'string', default: '4' },
    ttl: { type: 'string', default: '1' }, out: { type: 'string', default: 'bench/results' },
  },
});
const quick = args.quick!;
const plan = quick ? QUICK_PLAN : FULL_PLAN;
const revocations = Number(args.revocations ?? (quick ? 16 : 200));
const workers = Math.min(Number(args.workers), revocations);
const ttlSeconds = Number(args.ttl);

const median = (values: number[]) => [...values].sort((x, y) => x - y)[Math.floor(values.length / 2)]!;

let cluster: PinnedCluster | undefined;
let pair: ReplicaPair | undefined;
const cleanUp = async () => {
  await pair?.stop();
  pair = undefined;
  cluster?.stop();
  cluster = undefined;
};
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void cleanUp().finally(() => process.exit(130)));

async function propagation(p: ReplicaPair) {
  const agents = await Promise.all(Array.from({ length: workers }, (_, i) => workerAgent(p, `bench-p8-${i}-${Date.now()}`)));
  const base = { issuer: p.issuer, audience: AUDIENCE, jwks: `${p.issuer}/jwks`, publicUrl: RS_URL };
  const list = await measureMode(p, agents, createVerifier({ ...base, statusList: true }), revocations);
  const push = await pushEndpoint(p);
  try {
    const pushed = await measureMode(p, agents, createVerifier({ ...base, revocations: push.receiver }), revocations);
    return {
      P8_status_list: { ...summary(list), ttlSeconds, sdkCacheSeconds: ttlSeconds, workers },
      P8_push: { ...summary(pushed), pollIntervalMs: 20, workers },
    };
  } finally {
    await push.close();
  }
}

async function main() {
  const loadAverageAtStart = (await import('node:os')).loadavg();
  const sqlite = await singleSqliteMint(plan, ttlSeconds);
  cluster = await startPinnedPostgres();
  pair = await startReplicas(cluster, ttlSeconds);
  const replicas = await replicaPairMint(plan, pair, cluster.postmasterPid);
  const p8 = await propagation(pair);
  await cleanUp();
  const ratios = {
    P8: p8.P8_status_list.p99Seconds, P8_push: p8.P8_push.p99Seconds,
    P9: replicas.medianCpuSecondsPerMint / sqlite.medianCpuSecondsPerMint,
  };
  const at = new Date().toISOString();
  // Reported only: P9 with each case's idle CPU (pollers) taken out of every run, the per-mint cost proper.
  const netOfIdle = (c: typeof sqlite) => median(c.runs.map((r) => (r.cpuSeconds - c.idleCpuPerSecond * r.seconds) / Math.max(r.ops, 1)));
  const figures = { ...p8, P9_sqlite_one_replica: sqlite, P9_postgres_two_replicas: replicas, P9_net_of_idle: { value: netOfIdle(replicas) / netOfIdle(sqlite), unit: 'ratio', sqliteCpuSecondsPerMint: netOfIdle(sqlite), postgresCpuSecondsPerMint: netOfIdle(replicas) } };
  const table = replicasTable(ratios, figures);
  const result = {
    kind: 'replicas', at, quick, deployment: 'two mandate serve replicas on one PostgreSQL (P9 baseline: one on SQLite)', ratios, figures,
    settings: { statusListTtlSeconds: ttlSeconds, pushPollIntervalMs: 20, storePollInterval: '5s', concurrency: CONCURRENCY, revocations, workers },
    correctness: { sqlite_mint: sqlite.replay, replica_mint: replicas.replay },
    loadAverage: { start: loadAverageAtStart, end: (await import('node:os')).loadavg() },
    ...environment(plan), table,
  };
  mkdirSync(args.out!, { recursive: true });
  const file = join(args.out!, `${at.replaceAll(':', '-')}-replicas${quick ? '-quick' : ''}.json`);
  writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
  process.stdout.write(`${table}\nwrote ${file}\n`);
  if (sqlite.nonOk > 0 || replicas.nonOk > 0) {
    process.stdout.write(`non-2xx mints: SQLite ${sqlite.nonOk} (${sqlite.firstFailure?.status} ${sqlite.firstFailure?.body}), replicas ${replicas.nonOk} (${replicas.firstFailure?.status} ${replicas.firstFailure?.body})\n`);
    process.exitCode = 1;
  }
}

try {
  await main();
} finally {
  await cleanUp();
}
