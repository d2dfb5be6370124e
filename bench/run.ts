/**
 * `npm run bench [-- --quick]`: measures in one run and writes bench/results/<UTC-ISO>.json with
 * `ratios` and `figures`, plus a markdown table on stdout. The foundation has one rough case: an
 * in-process mint (sign an access-token-shaped JWT after a durable, chained audit append) against
 * raw node:crypto ES256 signing, the physical limit. HTTP cases against oidc-provider come with
 * the benchmark suite.
 */
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync, sign } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, totalmem, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApp } from '../packages/broker/src/app.ts';
import { loadConfig } from '../packages/broker/src/config/load.ts';
import { attestedMint } from './attested-mint.ts';
import { FULL_PLAN, QUICK_PLAN, measure, type CaseResult } from './measure.ts';

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
const http = await attestedMint(plan, Number(process.env.BENCH_PORT ?? 7491));
const ratios = {
  P4_rough_inprocess: mint.median / raw.median,
  // BENCH.md P4 is this ratio with the mint measured per BENCH's method; here the load generator
  // shares nothing with the server (separate process and CPU) but is not yet wrk.
  P4: http.median / raw.median,
};
const at = new Date().toISOString();
const result = { at, quick, ...environment(), settings: { dpop_require_nonce: false, rate_limits: 'defaults' }, ratios, figures: { raw_es256_sign: raw, rough_inprocess_mint: mint, attested_http_mint: http } };
mkdirSync(join(root, 'bench/results'), { recursive: true });
const file = join(root, 'bench/results', `${at.replaceAll(':', '-')}${quick ? '-quick' : ''}.json`);
writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);

const row = (c: CaseResult) => `| ${c.name} | ${c.median.toFixed(0)} ${c.unit} | ${c.spread.min.toFixed(0)}–${c.spread.max.toFixed(0)} | ${c.medianPerCpuSecond.toFixed(0)} |`;
process.stdout.write([
  `| Case | Median | Range of ${plan.runs} runs | Per CPU-second |`, '|---|---|---|---|', row(raw), row(mint), row(http), '',
  `attested HTTP mint: non-200 responses ${http.nonOk}, median p99 ${http.p99Ms.toFixed(1)} ms, dpop.requireNonce=false`, '',
  `| Ratio | Value |`, '|---|---|', `| P4_rough_inprocess (in-process mint ÷ raw sign) | ${ratios.P4_rough_inprocess.toFixed(3)} |`,
  `| P4 (attested HTTP mint ÷ raw sign) | ${ratios.P4.toFixed(3)} |`, '',
  `written ${file}`, '',
].join('\n'));
if (http.nonOk > 0) process.exitCode = 1;
