/**
 * Revocation propagation (P8): revoke → first rejected use at a resource server that calls
 * continuously through the SDK verifier, p50/p99 over N revocations (default 200) per mode:
 *
 * - `status_list`: the verifier checks each token's bit in the broker's Token Status List, cached
 *   for the list's `ttl` / `max-age` (`revocation.statusListTtl`, 1 s here);
 * - `push`: the resource server registered an SSF stream; the broker pushes CAEP session-revoked
 *   SETs to its endpoint (RFC 8935) and the verifier consults the receiver's revoked set.
 *
 * Each sample: mint a token (token exchange with an approved mandate), check it is accepted, then
 * start calling (a fresh DPoP proof per call, through `verifier.verifyRequest`), send the agent's
 * RFC 7009 revocation, and time from sending it to the first ERR_TOKEN_REVOKED. `--workers` samples
 * run at once. Today one broker (`mandate serve`, SQLite, pinned to CPU 0); a `Deployment` with
 * separate mint / revoke / status-list replicas plugs in unchanged (see bench/README.md).
 *
 *   npm run bench:propagation -- [--revocations 200] [--workers 8] [--ttl 1] [--out bench/results]
 */
import { createHash, KeyObject } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { CLIENT_ASSERTION_TYPE, createVerifier, type Verifier } from '@mandate/sdk';
import { timeToFirstRejection, type Sample } from './first-rejection.ts';
import { createSsfReceiver, registerSsfStream } from '@mandate/sdk/ssf-receiver';
import { environment } from './environment.ts';
import { signEs256, stopChild } from './http-load.ts';
import { AUDIENCE, benchConfig, exchangeRequest, prepareAgent, registerAgent, send, startMandate, type BenchAgent } from './mandate-server.ts';

const RS_URL = 'https://rs.bench.example';
const RS_SECRET = 'bench-resource-server-secret';

/** Where tokens are minted and revoked and which issuer the verifier trusts: one broker now, replicas later. */
export interface Deployment {
  issuer: string;
  mintBase: string;
  revokeBase: string;
  agent: BenchAgent;
  stop(): Promise<void>;
}

const { values: args } = parseArgs({
  options: { revocations: { type: 'string', default: '200' }, workers: { type: 'string', default: '8' }, ttl: { type: 'string', default: '1' }, port: { type: 'string', default: process.env.BENCH_PORT ?? '7491' }, out: { type: 'string', default: 'bench/results' } },
});
const revocations = Number(args.revocations);
const workers = Number(args.workers);
const ttlSeconds = Number(args.ttl);

async function singleBroker(port: number): Promise<Deployment> {
  const dir = mkdtempSync(join(tmpdir(), 'mandate-bench-propagation-'));
  const dataDir = join(dir, 'data');
  const config = benchConfig();
  (config.audiences as Record<string, Record<string, unknown>>)[AUDIENCE]!.introspectionSecretSha256 = createHash('sha256').update(RS_SECRET).digest('base64url');
  config.revocation = { statusListTtl: `${ttlSeconds}s`, push: { pollInterval: '10ms', allowLoopback: true } };
  // One agent minted back to back by every worker, far beyond a real agent's rate: limits off (docs/limits.md).
  config.limits = { enabled: false };
  const { child, base } = await startMandate(dir, port, dataDir, config);
  try {
    const agent = await prepareAgent(base, dataDir, await registerAgent(base, dataDir, `bench-propagation-${Date.now()}`), true);
    return { issuer: base, mintBase: base, revokeBase: base, agent, stop: async () => { await stopChild(child); rmSync(dir, { recursive: true, force: true }); } };
  } catch (error) {
    await stopChild(child);
    throw error;
  }
}

let counter = 0;
const jti = () => `${process.pid}-p-${++counter}`;

async function mint(d: Deployment): Promise<string> {
  const response = await send(exchangeRequest(d.mintBase, d.agent));
  if (response.status !== 200) throw new Error(`mint: HTTP ${response.status} ${await response.text()}`);
  return ((await response.json()) as { access_token: string }).access_token;
}

/** RFC 7009 by the agent itself (private_key_jwt). */
async function revoke(d: Deployment, token: string): Promise<void> {
  const now = Math.floor(Date.now() / 1000);
  const assertion = signEs256({ typ: 'client-authentication+jwt' }, { iss: d.agent.id, sub: d.agent.id, aud: d.revokeBase, iat: now, exp: now + 30, jti: jti() }, d.agent.clientKey);
  const body = new URLSearchParams({ client_id: d.agent.id, client_assertion_type: CLIENT_ASSERTION_TYPE, client_assertion: assertion, token });
  const response = await fetch(`${d.revokeBase}/revoke`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body });
  if (response.status !== 200) throw new Error(`revoke: HTTP ${response.status}`);
}

/** One call at the resource server: a fresh DPoP proof, the SDK verifier's full check. */
function call(verifier: Verifier, agent: BenchAgent, token: string) {
  const now = Math.floor(Date.now() / 1000);
  const ath = createHash('sha256').update(token).digest('base64url');
  const proof = signEs256({ typ: 'dpop+jwt', jwk: agent.dpopJwk }, { jti: jti(), htm: 'GET', htu: `${RS_URL}/items`, iat: now, ath }, agent.dpopKey as KeyObject);
  return verifier.verifyRequest({ method: 'GET', url: '/items', headers: { authorization: `DPoP ${token}`, dpop: proof } });
}


async function sample(d: Deployment, verifier: Verifier): Promise<Sample> {
  const token = await mint(d);
  await call(verifier, d.agent, token);
  return timeToFirstRejection(() => call(verifier, d.agent, token), () => revoke(d, token));
}

async function measureMode(d: Deployment, verifier: Verifier): Promise<Sample[]> {
  const latencies: Sample[] = [];
  let next = 0;
  await Promise.all(Array.from({ length: workers }, async () => {
    while (next++ < revocations) latencies.push(await sample(d, verifier));
  }));
  return latencies;
}

const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
const summary = (samples: Sample[]) => {
  const sorted = samples.map((s) => s.ms).sort((a, b) => a - b);
  const revoke = samples.map((s) => s.revokeMs).sort((a, b) => a - b);
  return {
    n: sorted.length, p50Seconds: quantile(sorted, 0.5) / 1000, p99Seconds: quantile(sorted, 0.99) / 1000, maxSeconds: sorted.at(-1)! / 1000, minSeconds: sorted[0]! / 1000,
    revokeResponseP50Seconds: quantile(revoke, 0.5) / 1000, revokeResponseP99Seconds: quantile(revoke, 0.99) / 1000,
  };
};

async function pushEndpoint(d: Deployment) {
  const receiver = createSsfReceiver({ issuer: d.issuer, audience: AUDIENCE, jwks: `${d.issuer}/jwks` });
  const server: Server = createServer((req, res) => receiver.nodeHandler(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const endpointUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/ssf/events`;
  await registerSsfStream({ issuer: d.issuer, clientId: AUDIENCE, clientSecret: RS_SECRET, endpointUrl });
  return { receiver, close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(resolve); }) };
}

async function main(): Promise<void> {
  const d = await singleBroker(Number(args.port));
  const base = { issuer: d.issuer, audience: AUDIENCE, jwks: `${d.issuer}/jwks`, publicUrl: RS_URL };
  try {
    const listMs = await measureMode(d, createVerifier({ ...base, statusList: true }));
    const push = await pushEndpoint(d);
    const pushMs = await measureMode(d, createVerifier({ ...base, revocations: push.receiver }));
    await push.close();
    const figures = {
      P8_status_list: { ...summary(listMs), ttlSeconds, sdkCacheSeconds: ttlSeconds, workers },
      P8_push: { ...summary(pushMs), pollIntervalMs: 10, workers },
    };
    const ratios = { P8: figures.P8_status_list.p99Seconds, P8_push: figures.P8_push.p99Seconds };
    const result = { kind: 'propagation', deployment: 'one broker, SQLite', ratios, figures, ...environment({ warmupMs: 0, runMs: 0, runs: 1 }) };
    mkdirSync(args.out!, { recursive: true });
    const file = join(args.out!, `${new Date().toISOString().replace(/:/g, '-')}-propagation.json`);
    writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
    console.log(`| mode | n | p50 s | p99 s | max s | revoke response p50 / p99 s |\n|---|---|---|---|---|---|`);
    for (const [mode, f] of Object.entries(figures))
      console.log(`| ${mode} | ${f.n} | ${f.p50Seconds.toFixed(3)} | ${f.p99Seconds.toFixed(3)} | ${f.maxSeconds.toFixed(3)} | ${f.revokeResponseP50Seconds.toFixed(3)} / ${f.revokeResponseP99Seconds.toFixed(3)} |`);
    console.log(`wrote ${file}`);
  } finally {
    await d.stop();
  }
}

await main();
