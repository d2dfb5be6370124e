/**
 * First attested mint case: the real `mandate serve` (its own process, pinned to CPU 0), an agent
 * that attested once and holds an approved mandate, and a closed-loop load generator (this
 * process) sending token exchanges, each with a fresh client assertion and a fresh DPoP proof,
 * reusing the attestation result within its freshness window as a real agent would. Audit is
 * synchronous and durable (SQLite FULL). Every loop is bounded by time; the server is stopped by
 * its PID.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose';
import { createAgentClient, CLIENT_ASSERTION_TYPE, GRANT_TYPE, TOKEN_TYPE } from '@mandate/sdk';
import type { CaseResult, Plan } from './measure.ts';

const AUDIENCE = 'https://api.example.com';
const CONCURRENCY = 16;

interface Agent {
  id: string;
  clientKey: CryptoKey;
  dpopKey: CryptoKeyPair;
  dpopJwk: JWK;
  grant: string;
  attestation: string;
}

function startServer(dir: string, port: number): Promise<{ child: ChildProcess; base: string }> {
  const config = {
    audiences: { [AUDIENCE]: { actions: ['read', 'write'] } },
    attestation: { attestors: { 'code-digest': {} }, policies: { bench: { freshness: '10m', anyOf: [{ allOf: [{ attestor: 'code-digest', minStatus: 'warning' }] }] } } },
  };
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
  const bin = new URL('../packages/broker/bin/mandate.js', import.meta.url).pathname;
  // BENCH_PROFILE=<dir> writes a V8 CPU profile of the server (see bench/README.md).
  const profile = process.env.BENCH_PROFILE ? ['--cpu-prof', '--cpu-prof-dir', process.env.BENCH_PROFILE] : [];
  const args = ['-c', '0', process.execPath, ...profile, bin, 'serve', '--config', join(dir, 'config.json'), '--data', join(dir, 'data'), '--port', String(port), '--log-level', 'error'];
  const child = spawn('taskset', args, { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d) => {
      out += d;
      if (out.includes('listening')) resolve({ child, base: `http://localhost:${port}` });
    });
    child.once('exit', (code) => reject(new Error(`server exited with ${code}: ${out}`)));
  });
}

async function admin(base: string, token: string, method: string, path: string, body?: unknown) {
  const response = await fetch(base + path, { method, headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) }, ...(body ? { body: JSON.stringify(body) } : {}) });
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`);
  return (await response.json()) as Record<string, any>;
}

/** Registers an agent, attests, asks, approves (admin API) and collects the grant. */
async function prepareAgent(base: string, dataDir: string): Promise<Agent> {
  const token = readFileSync(join(dataDir, 'admin-token'), 'utf8').trim();
  const { humans } = await admin(base, token, 'GET', '/admin/v1/humans');
  const approver = humans[0].id as string;
  const client = await generateKeyPair('ES256', { extractable: true });
  const registered = await admin(base, token, 'POST', '/admin/v1/agents', { name: 'bench-agent', owners: [approver], policy: 'bench', jwk: await exportJWK(client.publicKey) });
  const dpopKey = await generateKeyPair('ES256', { extractable: true });
  const evidence = [{ attestor: 'code-digest', evidence: { digest: `sha256:${'a'.repeat(64)}` } }];
  const sdk = createAgentClient({ issuer: base, clientId: registered.id, clientKey: client.privateKey, dpopKey, evidence });
  const attested = await sdk.attest();
  const task = { purpose: 'benchmark', audience: AUDIENCE, actions: ['read'], notAfter: Math.floor(Date.now() / 1000) + 3600 };
  const { authReqId } = await sdk.ask({ loginHint: approver, bindingMessage: 'benchmark', task, attestation: attested });
  const { mandates } = await admin(base, token, 'GET', `/admin/v1/mandates?status=pending&agent=${registered.id}`);
  await admin(base, token, 'POST', `/admin/v1/mandates/${mandates[0].id}/approve`);
  const { grant } = await sdk.waitForApproval(authReqId, { timeoutMs: 30_000 });
  return { id: registered.id, clientKey: client.privateKey, dpopKey, dpopJwk: await exportJWK(dpopKey.publicKey), grant, attestation: attested.attestation };
}

let counter = 0;
async function exchangeOnce(base: string, agent: Agent): Promise<number> {
  const now = Math.floor(Date.now() / 1000);
  const jti = `${process.pid}-${++counter}`;
  const assertion = await new SignJWT({ iss: agent.id, sub: agent.id, aud: base, iat: now, exp: now + 30, jti })
    .setProtectedHeader({ alg: 'ES256', typ: 'client-authentication+jwt' }).sign(agent.clientKey);
  const proof = await new SignJWT({ jti, htm: 'POST', htu: `${base}/token`, iat: now })
    .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk: agent.dpopJwk }).sign(agent.dpopKey.privateKey);
  const body = new URLSearchParams({
    grant_type: GRANT_TYPE.tokenExchange, client_assertion_type: CLIENT_ASSERTION_TYPE, client_assertion: assertion,
    subject_token: agent.grant, subject_token_type: TOKEN_TYPE.refreshToken, actor_token: agent.attestation, actor_token_type: TOKEN_TYPE.jwt, resource: AUDIENCE,
  });
  const response = await fetch(`${base}/token`, { method: 'POST', headers: { dpop: proof, 'content-type': 'application/x-www-form-urlencoded' }, body });
  await response.arrayBuffer();
  return response.status;
}

function cpuSecondsOf(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime + stime in clock ticks (100 Hz)
}

async function loadFor(ms: number, base: string, agent: Agent, pid: number) {
  const deadline = performance.now() + ms;
  const cpu0 = cpuSecondsOf(pid);
  const t0 = performance.now();
  let ok = 0;
  let failed = 0;
  const latencies: number[] = [];
  const worker = async () => {
    while (performance.now() < deadline) {
      const start = performance.now();
      const status = await exchangeOnce(base, agent);
      latencies.push(performance.now() - start);
      if (status === 200) ok++;
      else failed++;
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  const seconds = (performance.now() - t0) / 1000;
  latencies.sort((a, b) => a - b);
  const cpuSeconds = cpuSecondsOf(pid) - cpu0;
  return { ops: ok, failed, seconds, perSecond: ok / seconds, cpuSeconds, perCpuSecond: ok / Math.max(cpuSeconds, 0.01), p99Ms: latencies[Math.floor(latencies.length * 0.99)] ?? 0 };
}

/** Returns the case with its runs; throws if any request failed (the target is 0 non-2xx). */
export async function attestedMint(plan: Plan, port: number): Promise<CaseResult & { nonOk: number; p99Ms: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'mandate-bench-http-'));
  const { child, base } = await startServer(dir, port);
  try {
    const agent = await prepareAgent(base, join(dir, 'data'));
    await loadFor(plan.warmupMs, base, agent, child.pid!);
    const runs = [];
    for (let i = 0; i < plan.runs; i++) runs.push(await loadFor(plan.runMs, base, agent, child.pid!));
    const rates = runs.map((r) => r.perSecond).sort((a, b) => a - b);
    const median = rates[Math.floor(rates.length / 2)]!;
    const nonOk = runs.reduce((n, r) => n + r.failed, 0);
    const p99s = runs.map((r) => r.p99Ms).sort((a, b) => a - b);
    return {
      name: `attested DPoP mint over HTTP (token exchange, ${CONCURRENCY} in flight, durable audit)`, unit: 'mints/s', runs,
      median, medianPerCpuSecond: runs.map((r) => r.perCpuSecond).sort((a, b) => a - b)[Math.floor(runs.length / 2)]!,
      spread: { min: rates[0]!, max: rates[rates.length - 1]!, relative: (rates[rates.length - 1]! - rates[0]!) / median },
      nonOk, p99Ms: p99s[Math.floor(p99s.length / 2)]!,
    };
  } finally {
    child.kill('SIGTERM');
    await new Promise((resolve) => child.once('exit', resolve));
    rmSync(dir, { recursive: true, force: true });
  }
}


