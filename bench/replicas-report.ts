/** The markdown table of `npm run bench:replicas`: P8 per mode, P9's two cases, the ratios and their targets. */
import type { MintCpuCase } from './replica-mint.ts';
import type { summary } from './replica-propagation.ts';

type Propagation = ReturnType<typeof summary>;

const TARGETS: Record<string, string> = { P8: '≤ 1 s', P8_push: '≤ 0.1 s', P9: '≤ 1.3' };
const s3 = (x: number) => x.toFixed(3);

export function replicasTable(ratios: Record<string, number>, f: { P8_status_list: Propagation & { ttlSeconds: number }; P8_push: Propagation; P9_sqlite_one_replica: MintCpuCase; P9_postgres_two_replicas: MintCpuCase; P9_net_of_idle: { value: number } }): string {
  const mode = (name: string, p: Propagation) => `| ${name} | ${p.n} | ${s3(p.p50Seconds)} | ${s3(p.p99Seconds)} | ${s3(p.minSeconds)}–${s3(p.maxSeconds)} | ${s3(p.revokeResponseP50Seconds)} / ${s3(p.revokeResponseP99Seconds)} |`;
  const mint = (name: string, c: MintCpuCase) =>
    `| ${name} | ${c.median.toFixed(0)}/s | ${c.nonOk} | ${c.runs.map((r) => r.cpuSeconds.toFixed(2)).join(' / ')} | ${c.cpuSecondsPerMint.map((x) => (x * 1000).toFixed(3)).join(' / ')} | ${(c.medianCpuSecondsPerMint * 1000).toFixed(3)} | ${c.idleCpuPerSecond.toFixed(3)} | ${c.processes} |`;
  return [
    '| P8 mode (revoke on A, RS trusts B) | n | p50 s | p99 s | min–max s | revoke response p50 / p99 s |', '|---|---|---|---|---|---|',
    mode(`status list (ttl ${f.P8_status_list.ttlSeconds} s)`, f.P8_status_list), mode('push (SSF)', f.P8_push), '',
    '| P9 case (all server processes on CPU 0) | Median mints/s | Non-2xx | Server CPU-s per run | Server CPU-ms per mint, per run | Median CPU-ms per mint | Idle CPU-s/s | Processes |', '|---|---|---|---|---|---|---|---|',
    mint('1 replica, SQLite', f.P9_sqlite_one_replica), mint('2 replicas + PostgreSQL', f.P9_postgres_two_replicas), '',
    ...(f.P9_postgres_two_replicas.cpuShares
      ? [`Where the PostgreSQL case's CPU went (warm-up and runs): ${Object.entries(f.P9_postgres_two_replicas.cpuShares).map(([part, share]) => `${part} ${(share * 100).toFixed(0)} %`).join(', ')}.`, '']
      : []),
    '| Ratio | Value | Target |', '|---|---|---|',
    ...Object.entries(ratios).map(([k, v]) => `| ${k} | ${s3(v)} | ${TARGETS[k] ?? '—'} |`),
    `| P9 net of idle CPU (reported) | ${s3(f.P9_net_of_idle.value)} | — |`, '',
  ].join('\n');
}
