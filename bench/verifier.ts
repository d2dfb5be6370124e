/**
 * BENCH.md P6a / P6b: the resource-server verifier of the SDK, in-process, per CPU-second
 * (process.cpuUsage, which counts libuv's thread pool too, where WebCrypto verifies).
 *
 *   (a) jose `jwtVerify` with `createLocalJWKSet`, one distinct Mandate-shaped access token per call;
 *   (b) the SDK verifier's access-token check (`verifyAccessToken`), one distinct token per call;
 *   (c) the SDK verifier's full check (`verifyRequest`): token + fresh DPoP proof per call, cnf.jkt,
 *       act, replay cache, then `requireAction` on authorization_details.
 *
 * P6a = b ÷ a (target ≥ 1.0), P6b = c ÷ b (target ≥ 0.5). Tokens and proofs are signed in batches
 * outside the timed spans, so only verification is measured. Runs of the three cases alternate, so
 * drift on a shared machine affects them alike.
 *
 *   node --import tsx bench/verifier.ts [--quick]
 */
import { createHash, generateKeyPairSync, randomUUID, sign, type KeyObject } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { createLocalJWKSet, jwtVerify, type JWK } from 'jose';
import { verifyAccessToken } from '../packages/sdk/src/resource/access-token.ts';
import { createKeySource } from '../packages/sdk/src/resource/keys.ts';
import { requireAction } from '../packages/sdk/src/resource/require-action.ts';
import { createVerifier } from '../packages/sdk/src/resource/verifier.ts';
import { FULL_PLAN, QUICK_PLAN, type CaseResult, type Plan, type RunFigure } from './measure.ts';

const ISSUER = 'http://localhost:7420';
const AUDIENCE = 'https://api.example.com';
const AGENT = 'agt_benchbenchbenchbenchbe';
const HUMAN = 'usr_benchbenchbenchbenchbe';
const BATCH = 256;

export interface VerifierCaseResults {
  joseJwtVerify: CaseResult;
  sdkAccessToken: CaseResult;
  sdkFullRequest: CaseResult;
  ratios: { P6a: number; P6b: number };
}

interface Fixture {
  issuerKey: KeyObject;
  agentKey: KeyObject;
  jwks: { keys: JWK[] };
  jkt: string;
  agentJwk: JWK;
}

function makeFixture(): Fixture {
  const issuer = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const agent = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const { kty, crv, x, y } = agent.publicKey.export({ format: 'jwk' });
  const agentJwk = { kty, crv, x, y } as JWK;
  const jkt = createHash('sha256').update(JSON.stringify({ crv, kty, x, y })).digest('base64url');
  const issuerJwk = { ...issuer.publicKey.export({ format: 'jwk' }), kid: 'k1', alg: 'ES256', use: 'sig' } as JWK;
  return { issuerKey: issuer.privateKey, agentKey: agent.privateKey, jwks: { keys: [issuerJwk] }, jkt, agentJwk };
}

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

function signCompact(header: Record<string, unknown>, payload: Record<string, unknown>, key: KeyObject): string {
  const input = `${b64(header)}.${b64(payload)}`;
  return `${input}.${sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' }).toString('base64url')}`;
}

/** The claims the broker issues for a delegated task (packages/broker/src/core/access-token.ts). */
function accessToken(f: Fixture, now: number): string {
  return signCompact({ alg: 'ES256', typ: 'at+jwt', kid: 'k1' }, {
    iss: ISSUER, sub: HUMAN, aud: AUDIENCE, client_id: AGENT, iat: now, nbf: now, exp: now + 300, jti: randomUUID(),
    cnf: { jkt: f.jkt },
    'urn:mandate:attestation': { status: 'affirming', iat: now - 10, attestors: { 'code-digest': { status: 'affirming' } }, ref: 'att_benchbenchbenchbenchbe', evidence_digest: `sha256:${'0'.repeat(64)}` },
    act: { sub: AGENT, sub_profile: 'ai_agent' },
    authorization_details: [{
      type: 'agent-task', purpose: 'triage issues', locations: [AUDIENCE], actions: ['issues:read', 'issues:comment'], datatypes: ['issue'], identifier: 'acme/agent',
      constraints: { notAfter: now + 3600 },
      delegation: { id: 'mdt_benchbenchbenchbenchbe', approved_by: HUMAN, approved_at: now - 60, method: 'passkey', task_s256: 'x'.repeat(43) },
    }],
  }, f.issuerKey);
}

function dpopProof(f: Fixture, token: string, now: number): string {
  const ath = createHash('sha256').update(token).digest('base64url');
  return signCompact({ typ: 'dpop+jwt', alg: 'ES256', jwk: f.agentJwk }, { jti: randomUUID(), htm: 'GET', htu: `${AUDIENCE}/items`, iat: now, ath }, f.agentKey);
}

interface PooledCase<T> {
  name: string;
  make: (now: number) => T;
  op: (item: T) => Promise<unknown>;
}

/** Verifies pre-signed items for `ms` of timed wall time; signing happens between timed spans. */
async function timedRun<T>(c: PooledCase<T>, ms: number): Promise<RunFigure> {
  let ops = 0;
  let wall = 0;
  let cpuMicros = 0;
  while (wall < ms) {
    const now = Math.floor(Date.now() / 1000);
    const batch = Array.from({ length: BATCH }, () => c.make(now));
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    for (const item of batch) await c.op(item);
    wall += performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    cpuMicros += cpu.user + cpu.system;
    ops += batch.length;
  }
  const seconds = wall / 1000;
  const cpuSeconds = cpuMicros / 1e6;
  return { ops, seconds, perSecond: ops / seconds, cpuSeconds, perCpuSecond: ops / cpuSeconds };
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

function summarize(name: string, runs: RunFigure[]): CaseResult {
  const rates = runs.map((r) => r.perSecond);
  const med = median(rates);
  const [min, max] = [Math.min(...rates), Math.max(...rates)];
  return { name, unit: 'verifications/s', runs, median: med, medianPerCpuSecond: median(runs.map((r) => r.perCpuSecond)), spread: { min, max, relative: (max - min) / med } };
}

function cases(f: Fixture): [PooledCase<string>, PooledCase<string>, PooledCase<{ token: string; proof: string }>] {
  const jwks = createLocalJWKSet(f.jwks);
  const joseOptions = { algorithms: ['ES256', 'EdDSA'], issuer: ISSUER, audience: AUDIENCE, typ: 'at+jwt', clockTolerance: 30, requiredClaims: ['exp', 'iat', 'sub', 'client_id', 'jti'] };
  const keys = createKeySource(f.jwks, undefined);
  const verifier = createVerifier({ issuer: ISSUER, audience: AUDIENCE, jwks: f.jwks, publicUrl: AUDIENCE, allowedActors: [AGENT] });
  return [
    { name: 'jose jwtVerify + createLocalJWKSet (access token)', make: (now) => accessToken(f, now), op: (token) => jwtVerify(token, jwks, joseOptions) },
    {
      name: 'SDK verifier: access token only',
      make: (now) => accessToken(f, now),
      op: (token) => verifyAccessToken(token, { keys, issuer: ISSUER, audience: AUDIENCE, skewSeconds: 30, nowSeconds: Math.floor(Date.now() / 1000) }),
    },
    {
      name: 'SDK verifier: token + DPoP proof + cnf.jkt + act + action',
      make: (now) => {
        const token = accessToken(f, now);
        return { token, proof: dpopProof(f, token, now) };
      },
      op: async ({ token, proof }) => requireAction(await verifier.verifyRequest({ method: 'GET', url: '/items', headers: { authorization: `DPoP ${token}`, dpop: proof } }), 'issues:read'),
    },
  ];
}

/**
 * Measures cases (a), (b) and (c) with `plan` and returns them with P6a and P6b.
 *
 * @example
 * ```ts
 * const { ratios } = await verifierCases(QUICK_PLAN);
 * console.log(ratios.P6a, ratios.P6b);
 * ```
 */
export async function verifierCases(plan: Plan): Promise<VerifierCaseResults> {
  const [a, b, c] = cases(makeFixture());
  for (const each of [a, b, c] as PooledCase<unknown>[]) await timedRun(each, plan.warmupMs);
  const runs: RunFigure[][] = [[], [], []];
  for (let i = 0; i < plan.runs; i++) {
    runs[0]!.push(await timedRun(a, plan.runMs));
    runs[1]!.push(await timedRun(b, plan.runMs));
    runs[2]!.push(await timedRun(c, plan.runMs));
  }
  const [joseJwtVerify, sdkAccessToken, sdkFullRequest] = [a, b, c].map((each, i) => summarize(each.name, runs[i]!)) as [CaseResult, CaseResult, CaseResult];
  return {
    joseJwtVerify,
    sdkAccessToken,
    sdkFullRequest,
    ratios: { P6a: sdkAccessToken.medianPerCpuSecond / joseJwtVerify.medianPerCpuSecond, P6b: sdkFullRequest.medianPerCpuSecond / sdkAccessToken.medianPerCpuSecond },
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const result = await verifierCases(process.argv.includes('--quick') ? QUICK_PLAN : FULL_PLAN);
  const row = (c: CaseResult) => `| ${c.name} | ${c.medianPerCpuSecond.toFixed(0)} | ${c.runs.map((r) => r.perCpuSecond.toFixed(0)).join(' / ')} | ${c.median.toFixed(0)} |`;
  process.stdout.write([
    '| Case | Median per CPU-second | Runs per CPU-second | Median per second |', '|---|---|---|---|',
    row(result.joseJwtVerify), row(result.sdkAccessToken), row(result.sdkFullRequest), '',
    `P6a (SDK access token ÷ jose jwtVerify, per CPU-s; target ≥ 1.0): ${result.ratios.P6a.toFixed(2)}`,
    `P6b (SDK full request ÷ SDK access token, per CPU-s; target ≥ 0.5): ${result.ratios.P6b.toFixed(2)}`, '',
  ].join('\n'));
}
