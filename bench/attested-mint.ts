/**
 * First attested mint case: the real `mandate serve` (its own process, pinned to CPU 0), an agent
 * that attested once and holds an approved mandate, and a closed-loop load generator (this
 * process) sending token exchanges, each with a fresh client assertion and a fresh DPoP proof,
 * reusing the attestation result within its freshness window as a real agent would. Audit is
 * synchronous and durable (SQLite FULL). The loop, timing and stop-by-PID live in http-load.ts.
 */
import { KeyObject } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import { createAgentClient, CLIENT_ASSERTION_TYPE, GRANT_TYPE, TOKEN_TYPE } from '@mandate/sdk';
import { CONCURRENCY, closedLoopHttp, signEs256, startPinned, stopChild, type HttpCaseResult } from './http-load.ts';
import type { Plan } from './measure.ts';

const AUDIENCE = 'https://api.example.com';

interface Agent {
  id: string;
  clientKey: KeyObject;
  dpopKey: KeyObject;
  dpopJwk: JWK;
  grant: string;
  attestation: string;
}

async function startServer(dir: string, port: number) {
  const config = {
    audiences: { [AUDIENCE]: { actions: ['read', 'write'] } },
    attestation: { attestors: { 'code-digest': {} }, policies: { bench: { freshness: '10m', anyOf: [{ allOf: [{ attestor: 'code-digest', minStatus: 'warning' }] }] } } },
  };
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
  const bin = new URL('../packages/broker/bin/mandate.js', import.meta.url).pathname;
  // BENCH_PROFILE=<dir> writes a V8 CPU profile of the server (see bench/README.md).
  const profile = process.env.BENCH_PROFILE ? ['--cpu-prof', '--cpu-prof-dir', process.env.BENCH_PROFILE] : [];
  const child = await startPinned([...profile, bin, 'serve', '--config', join(dir, 'config.json'), '--data', join(dir, 'data'), '--port', String(port), '--log-level', 'error'], 'listening');
  return { child, base: `http://localhost:${port}` };
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
  return { id: registered.id, clientKey: KeyObject.from(client.privateKey), dpopKey: KeyObject.from(dpopKey.privateKey), dpopJwk: await exportJWK(dpopKey.publicKey), grant, attestation: attested.attestation };
}

let counter = 0;
function exchangeOnce(base: string, agent: Agent): Promise<Response> {
  const now = Math.floor(Date.now() / 1000);
  const jti = `${process.pid}-${++counter}`;
  const assertion = signEs256({ typ: 'client-authentication+jwt' }, { iss: agent.id, sub: agent.id, aud: base, iat: now, exp: now + 30, jti }, agent.clientKey);
  const proof = signEs256({ typ: 'dpop+jwt', jwk: agent.dpopJwk }, { jti, htm: 'POST', htu: `${base}/token`, iat: now }, agent.dpopKey);
  const body = new URLSearchParams({
    grant_type: GRANT_TYPE.tokenExchange, client_assertion_type: CLIENT_ASSERTION_TYPE, client_assertion: assertion,
    subject_token: agent.grant, subject_token_type: TOKEN_TYPE.refreshToken, actor_token: agent.attestation, actor_token_type: TOKEN_TYPE.jwt, resource: AUDIENCE,
  });
  return fetch(`${base}/token`, { method: 'POST', headers: { dpop: proof, 'content-type': 'application/x-www-form-urlencoded' }, body });
}

/** The case with its runs; `nonOk` counts non-2xx responses (the target is 0). */
export async function attestedMint(plan: Plan, port: number): Promise<HttpCaseResult> {
  const dir = mkdtempSync(join(tmpdir(), 'mandate-bench-http-'));
  const { child, base } = await startServer(dir, port);
  try {
    const agent = await prepareAgent(base, join(dir, 'data'));
    return await closedLoopHttp({
      name: `attested DPoP mint over HTTP (token exchange, ${CONCURRENCY} in flight, durable audit)`, unit: 'mints/s', plan, pid: child.pid!,
      send: () => exchangeOnce(base, agent),
    });
  } finally {
    await stopChild(child);
    rmSync(dir, { recursive: true, force: true });
  }
}
