/**
 * `npm run bench [-- --quick]`: every case back to back in one run, per the method in
 * bench/README.md, and bench/results/<UTC-ISO>.json with `ratios` and `figures` plus a markdown
 * table on stdout. Servers run in their own processes pinned to CPU 0 under the same closed-loop
 * load from this process (CPU 1); in-process cases (raw crypto, SDK verifier, attestors) run here.
 * The run checks correctness while it measures: every response 2xx (non-2xx counted, exit 1 if
 * any), a sample token per run verified with jose against the server's JWKS, a replayed request
 * refused. `--quick` is a smoke test of the whole pipeline, never a figure to quote.
 */
import { generateKeyPairSync, sign, verify } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApp } from '../packages/broker/src/app.ts';
import { loadConfig } from '../packages/broker/src/config/load.ts';
import { attestorCases } from './attestors.ts';
import { environment } from './environment.ts';
import { attestedMint } from './attested-mint.ts';
import { autonomousMint } from './autonomous-mint.ts';
import { CONCURRENCY, type HttpCaseResult } from './http-load.ts';
import { FULL_PLAN, QUICK_PLAN, measure, type CaseResult } from './measure.ts';
import { oidcProviderClientCredentials } from './oidc-provider-cc.ts';
import { PER_CLIENT_LIMIT, rateLimitNote } from './mandate-server.ts';
import { verifierCases } from './verifier.ts';

const quick = process.argv.includes('--quick');
const plan = quick ? QUICK_PLAN : FULL_PLAN;
const root = new URL('..', import.meta.url).pathname;

async function rawCrypto(): Promise<[CaseResult, CaseResult]> {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const data = Buffer.from('eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ1c3JfeCJ9');
  const signature = sign('sha256', data, { key: privateKey, dsaEncoding: 'ieee-p1363' });
  const signs = await measure('raw node:crypto ES256 sign', 'signs/s', plan, () => sign('sha256', data, { key: privateKey, dsaEncoding: 'ieee-p1363' }));
  const verifies = await measure('raw node:crypto ES256 verify', 'verifies/s', plan, () => verify('sha256', data, { key: publicKey, dsaEncoding: 'ieee-p1363' }, signature));
  return [signs, verifies];
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


/** BENCH.md: each result file carries every key measured so far; P7 comes from the newest full scale run, P8/P9 from the newest full replicas run. */
function latestScaleRatios(suffix = '-scale.json'): { file: string; ratios: Record<string, number> } | null {
  const dir = join(root, 'bench/results');
  if (!existsSync(dir)) return null;
  const files = readdirSync(dir).filter((f) => f.endsWith(suffix)).sort();
  const file = files.at(-1);
  if (!file) return null;
  return { file, ratios: (JSON.parse(readFileSync(join(dir, file), 'utf8')) as { ratios: Record<string, number> }).ratios };
}

const port = Number(process.env.BENCH_PORT ?? 7491);
const [raw, rawVerify] = await rawCrypto();
const mint = await roughMint();
const http = await attestedMint(plan, port);
const nullAudit = await attestedMint(plan, port, { entry: 'null-audit' });
const autonomous = await autonomousMint(plan, port);
// The peer right after Mandate, same load and plan (ratios measured back to back in one run).
const peerCc = await oidcProviderClientCredentials(plan, port + 1, false);
const peerDpop = await oidcProviderClientCredentials(plan, port + 1, true);
const verifier = await verifierCases(plan);
const attestors = await attestorCases(plan, quick);
const scale = latestScaleRatios();
const replicas = latestScaleRatios('-replicas.json');

const ratios: Record<string, number> = {
  // P1/P2: attested + DPoP-bound mint with durable audit ÷ oidc-provider client_credentials + DPoP.
  P1: http.median / peerDpop.median,
  P2: http.p99Ms / peerDpop.p99Ms,
  // P3: autonomous client_credentials mint (attestation result reused, audit on) ÷ oidc-provider client_credentials.
  P3: autonomous.median / peerCc.median,
  // P4: attested mint ÷ raw ES256 signs/s, the distance to the physical limit.
  P4: http.median / raw.median,
  // P5: durable audit ÷ the same mint with the benchmark-only null audit sink.
  P5: http.median / nullAudit.median,
  P6a: verifier.ratios.P6a,
  P6b: verifier.ratios.P6b,
  P4_rough_inprocess: mint.median / raw.median,
  ...(scale ? Object.fromEntries(Object.entries(scale.ratios).filter(([k]) => k.startsWith('P7'))) : {}),
  ...(replicas ? Object.fromEntries(Object.entries(replicas.ratios).filter(([k]) => /^P[89]/.test(k))) : {}),
};
const at = new Date().toISOString();
const result = {
  at, quick, ...environment(plan),
  // docs/limits.md: the servers run with the default rate limits; the load is spread over pools of agents.
  settings: { dpop_require_nonce: false, rate_limits: { source: 'defaults', per_client: PER_CLIENT_LIMIT, agents: { attested: http.agents, autonomous: autonomous.agents } }, concurrency: CONCURRENCY },
  ratios,
  ...(scale || replicas ? { ratios_from: { ...(scale ? { P7: scale.file } : {}), ...(replicas ? { P8: replicas.file, P9: replicas.file } : {}) } } : {}),
  versions: { oidc_provider: peerCc.version },
  correctness: { attested_http_mint: http.replay, null_audit_mint: nullAudit.replay, autonomous_mint: autonomous.replay },
  figures: {
    raw_es256_sign: raw, raw_es256_verify: rawVerify, rough_inprocess_mint: mint,
    attested_http_mint: http, attested_http_mint_null_audit: nullAudit, autonomous_http_mint: autonomous,
    oidc_provider_cc: peerCc, oidc_provider_cc_dpop: peerDpop,
    sdk_verifier_jose_jwtverify: verifier.joseJwtVerify, sdk_verifier_access_token: verifier.sdkAccessToken, sdk_verifier_full_request: verifier.sdkFullRequest,
    ...Object.fromEntries(Object.entries(attestors).map(([id, c]) => [`attestor_${id.replaceAll('-', '_')}`, c])),
  },
};
mkdirSync(join(root, 'bench/results'), { recursive: true });
const file = join(root, 'bench/results', `${at.replaceAll(':', '-')}${quick ? '-quick' : ''}.json`);
writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);

const httpCases: Array<[string, HttpCaseResult]> = [
  ['attested mint, durable audit (dpop.requireNonce=false)', http], ['attested mint, null audit sink (bench only)', nullAudit],
  ['autonomous client_credentials mint', autonomous],
  [`oidc-provider ${peerCc.version} client_credentials`, peerCc], [`oidc-provider ${peerDpop.version} client_credentials + DPoP`, peerDpop],
];
const row = (c: CaseResult) => `| ${c.name} | ${c.median.toFixed(0)} ${c.unit} | ${c.spread.min.toFixed(0)}–${c.spread.max.toFixed(0)} | ${c.medianPerCpuSecond.toFixed(0)} |`;
const httpRow = ([name, c]: [string, HttpCaseResult]) =>
  `| ${name} | ${c.median.toFixed(0)}/s | ${c.nonOk} | ${c.p99Ms.toFixed(1)} ms | ${c.runs.map((r) => r.cpuSeconds.toFixed(2)).join(' / ')} | ${c.runs.map((r) => r.loadCpuSeconds.toFixed(2)).join(' / ')} |`;
const TARGETS: Record<string, string> = { P1: '≥ 2.0', P2: '≤ 0.4', P3: '≥ 1.5', P4: '≥ 0.07', P5: '≥ 0.9', P6a: '≥ 1.0', P6b: '≥ 0.5', P7a: '≤ 0.1 ms', P7b: '≤ 1 ms', P7c: '≤ 0.1 ms', P7d: '≥ 0.9', P8: '≤ 1 s', P8_push: '≤ 0.1 s', P9: '≤ 1.3' };
process.stdout.write([
  `| Case | Median | Range of ${plan.runs} runs | Per CPU-second |`, '|---|---|---|---|',
  ...[raw, rawVerify, mint, ...httpCases.map(([, c]) => c), verifier.joseJwtVerify, verifier.sdkAccessToken, verifier.sdkFullRequest, ...Object.values(attestors)].map(row), '',
  '| HTTP case | Median | Non-2xx | Median p99 | Server CPU-s per run | Load-generator CPU-s per run |', '|---|---|---|---|---|---|',
  ...httpCases.map(httpRow), '',
  `Mandate servers: ${rateLimitNote(http.agents)}.`, '',
  '| Ratio | Value | Target |', '|---|---|---|',
  ...Object.entries(ratios).map(([key, value]) => `| ${key} | ${value.toFixed(3)} | ${TARGETS[key] ?? '—'} |`), '',
  `written ${file}`, '',
].join('\n'));
for (const [, c] of httpCases) {
  if (c.nonOk > 0 || c.firstFailure) {
    process.stdout.write(`${c.name}: ${c.nonOk} non-2xx in the timed runs; first failure ${c.firstFailure?.status}: ${c.firstFailure?.body}\n`);
    process.exitCode = 1;
  }
}
