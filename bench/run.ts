/**
 * `npm run bench [-- --quick]`: measures in one run and writes bench/results/<UTC-ISO>.json with
 * `ratios` and `figures`, plus a markdown table on stdout. The foundation has one rough case: an
 * in-process mint (sign an access-token-shaped JWT after a durable, chained audit append) against
 * raw node:crypto ES256 signing, the physical limit; the attested mint over HTTP; and the peer,
 * panva oidc-provider (client_credentials, JWT AT ES256, with and without DPoP), each server in
 * its own process on CPU 0 under the same closed-loop load (bench/http-load.ts).
 */
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync, sign } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, totalmem, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApp } from '../packages/broker/src/app.ts';
import { loadConfig } from '../packages/broker/src/config/load.ts';
import { attestedMint } from './attested-mint.ts';
import { type HttpCaseResult } from './http-load.ts';
import { FULL_PLAN, QUICK_PLAN, measure, type CaseResult } from './measure.ts';
import { oidcProviderClientCredentials } from './oidc-provider-cc.ts';

const quick = process.argv.includes('--quick');
const plan = quick ? QUICK_PLAN : FULL_PLAN;
const root = new URL('..', import.meta.url).pathname;

async function rawSign(): Promise<CaseResult> {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const data = Buffer.from('eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ1c3JfeCJ9');
  return measure('raw node:crypto ES256 sign', 'signs/s', plan, () => sign('sha256', data, { key: privateKey, dsaEncoding: 'ieee-p1363' }));
}

async function roughMint(): Promise<CaseResult> {
  const dir = mkdtempSync(join(tmpdir(), 'mandate-bench-'));
  const app = await createApp(loadConfig({ flags: { data: dir, logLevel: 'silent' }, env: {} }));
  let n = 0;
  try {
    return await measure('rough in-process mint (durable audit + ES256 at+jwt)', 'mints/s', plan, async () => {
      const jti = `jti-${++n}`;
      const now = Math.floor(Date.now() / 1000);
      await app.audit.record({ type: 'token.issued', actor: 'agt_benchbenchbenchbenchbe', approver: 'usr_benchbenchbenchbenchbe', jti, requestId: `req_${n}` });
      return app.keys.sign({ typ: 'at+jwt' }, { iss: app.config.issuer, sub: 'usr_benchbenchbenchbenchbe', aud: 'https://api.example.com', client_id: 'agt_benchbenchbenchbenchbe', act: { sub: 'agt_benchbenchbenchbenchbe' }, iat: now, nbf: now, exp: now + 300, jti });
    }, true);
  } finally {
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

function environment() {
  const git = (args: string[]) => { try { return execFileSync('git', args, { cwd: root }).toString().trim(); } catch { return 'unknown'; } };
  return {
    commit: git(['rev-parse', 'HEAD']),
    dirty: git(['status', '--porcelain']) !== '',
    node: process.version,
    machine: { cpus: cpus().length, model: cpus()[0]?.model ?? 'unknown', memoryGiB: Math.round(totalmem() / 2 ** 30) },
    plan,
  };
}

const raw = await rawSign();
const mint = await roughMint();
const port = Number(process.env.BENCH_PORT ?? 7491);
const http = await attestedMint(plan, port);
// The peer right after Mandate, same load and plan (BENCH.md: ratios measured back to back in one run).
const peerCc = await oidcProviderClientCredentials(plan, port + 1, false);
const peerDpop = await oidcProviderClientCredentials(plan, port + 1, true);
const ratios = {
  P4_rough_inprocess: mint.median / raw.median,
  // BENCH.md P4 is this ratio with the mint measured per BENCH's method; here the load generator
  // shares nothing with the server (separate process and CPU) but is not yet wrk.
  P4: http.median / raw.median,
  // BENCH.md P1/P2: attested + DPoP-bound mint with durable audit ÷ oidc-provider client_credentials + DPoP.
  P1: http.median / peerDpop.median,
  P2: http.p99Ms / peerDpop.p99Ms,
};
const at = new Date().toISOString();
const result = { at, quick, ...environment(), settings: { dpop_require_nonce: false, rate_limits: 'defaults' }, ratios, versions: { oidc_provider: peerCc.version }, figures: { raw_es256_sign: raw, rough_inprocess_mint: mint, attested_http_mint: http, oidc_provider_cc: peerCc, oidc_provider_cc_dpop: peerDpop } };
mkdirSync(join(root, 'bench/results'), { recursive: true });
const file = join(root, 'bench/results', `${at.replaceAll(':', '-')}${quick ? '-quick' : ''}.json`);
writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);

const httpRow = (name: string, c: HttpCaseResult) => `| ${name} | ${c.nonOk} | ${c.p99Ms.toFixed(1)} ms | ${c.runs.map((r) => r.cpuSeconds.toFixed(2)).join(' / ')} | ${c.runs.map((r) => r.loadCpuSeconds.toFixed(2)).join(' / ')} |`;
const row = (c: CaseResult) => `| ${c.name} | ${c.median.toFixed(0)} ${c.unit} | ${c.spread.min.toFixed(0)}–${c.spread.max.toFixed(0)} | ${c.medianPerCpuSecond.toFixed(0)} |`;
process.stdout.write([
  `| Case | Median | Range of ${plan.runs} runs | Per CPU-second |`, '|---|---|---|---|', row(raw), row(mint), row(http), row(peerCc), row(peerDpop), '',
  `| HTTP case | Non-2xx | Median p99 | Server CPU-s per run | Load-generator CPU-s per run |`, '|---|---|---|---|---|',
  ...([['attested HTTP mint (dpop.requireNonce=false)', http], [`oidc-provider ${peerCc.version} client_credentials`, peerCc], [`oidc-provider ${peerDpop.version} client_credentials + DPoP`, peerDpop]] as const).map(([n, c]) => httpRow(n, c)), '',
  `| Ratio | Value |`, '|---|---|', `| P4_rough_inprocess (in-process mint ÷ raw sign) | ${ratios.P4_rough_inprocess.toFixed(3)} |`,
  `| P4 (attested HTTP mint ÷ raw sign) | ${ratios.P4.toFixed(3)} |`,
  `| P1 (attested HTTP mint ÷ oidc-provider cc + DPoP, req/s; target ≥ 2.0) | ${ratios.P1.toFixed(2)} |`,
  `| P2 (same pair, p99 Mandate ÷ peer; target ≤ 0.4) | ${ratios.P2.toFixed(2)} |`, '',
  `written ${file}`, '',
].join('\n'));
for (const c of [http, peerCc, peerDpop]) {
  if (c.nonOk > 0 || c.firstFailure) {
    process.stdout.write(`${c.name}: ${c.nonOk} non-2xx in the timed runs; first failure ${c.firstFailure?.status}: ${c.firstFailure?.body}\n`);
    process.exitCode = 1;
  }
}
