/**
 * What every Mandate server case shares: start the broker in its own process pinned to CPU 0
 * (`mandate serve`, or the benchmark's own null-audit composition root), prepare an agent through
 * the real admin API and SDK, build fresh requests with node:crypto, and check while measuring:
 * a sample token per run verified by jose against the broker's JWKS, and a replayed request refused.
 */
import type { ChildProcess } from 'node:child_process';
import { KeyObject } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { calculateJwkThumbprint, createRemoteJWKSet, exportJWK, generateKeyPair, jwtVerify, type JWK } from 'jose';
import { CLIENT_ASSERTION_TYPE, createAgentClient, GRANT_TYPE, HTTP_HEADER, TOKEN_TYPE } from '@mandate/sdk';
import { signEs256, startPinned } from './http-load.ts';
import { loadConfig } from '../packages/broker/src/config/load.ts';
import type { Plan } from './measure.ts';

export const AUDIENCE = 'https://api.example.com';
export const AUTONOMOUS_AUDIENCE = 'https://auto.example.com';

/** `serve`: the product's own entry. `null-audit`: bench/null-audit-server.ts, for P5 only. */
export type ServerEntry = 'serve' | 'null-audit';

export interface BenchAgent {
  id: string;
  clientKey: KeyObject;
  dpopKey: KeyObject;
  dpopJwk: JWK;
  jkt: string;
  attestation: string;
  /** The mandate grant (token exchange cases only). */
  grant?: string;
}

export function benchConfig(autonomousAgents: string[] = []): Record<string, unknown> {
  return {
    audiences: {
      [AUDIENCE]: { actions: ['read', 'write'] },
      [AUTONOMOUS_AUDIENCE]: { actions: ['read'], ...(autonomousAgents.length > 0 ? { autonomous: { agents: autonomousAgents, actions: ['read'] } } : {}) },
    },
    attestation: { attestors: { 'code-digest': {} }, policies: { bench: { freshness: '10m', anyOf: [{ allOf: [{ attestor: 'code-digest', minStatus: 'warning' }] }] } } },
  };
}

/** Writes `config` next to the data dir and starts the server; resolves once it listens. */
export async function startMandate(dir: string, port: number, dataDir: string, config: Record<string, unknown>, entry: ServerEntry = 'serve') {
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
  const args = ['--config', join(dir, 'config.json'), '--data', dataDir, '--port', String(port), '--log-level', 'error'];
  // BENCH_PROFILE=<dir> writes a V8 CPU profile of the server; BENCH_SERVER_FLAGS adds Node/V8 flags
  // to it, such as those NODE_OPTIONS refuses (see bench/README.md).
  const profile = [...(process.env.BENCH_PROFILE ? ['--cpu-prof', '--cpu-prof-dir', process.env.BENCH_PROFILE] : []), ...(process.env.BENCH_SERVER_FLAGS?.split(' ').filter(Boolean) ?? [])];
  const script =
    entry === 'serve'
      ? [new URL('../packages/broker/bin/mandate.js', import.meta.url).pathname, 'serve']
      : ['--import', 'tsx', new URL('./null-audit-server.ts', import.meta.url).pathname];
  const child: ChildProcess = await startPinned([...profile, ...script, ...args], 'listening');
  return { child, base: `http://localhost:${port}` };
}

export async function admin(base: string, dataDir: string, method: string, path: string, body?: unknown) {
  const token = readFileSync(join(dataDir, 'admin-token'), 'utf8').trim();
  const headers = { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) };
  const response = await fetch(base + path, { method, headers, ...(body ? { body: JSON.stringify(body) } : {}) });
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`);
  return (await response.json()) as Record<string, any>;
}

/** Registers an agent owned by the bootstrap human; returns its keys (not yet attested). */
export async function registerAgent(base: string, dataDir: string, name: string) {
  const { humans } = await admin(base, dataDir, 'GET', '/admin/v1/humans');
  const human = humans[0].id as string;
  const client = await generateKeyPair('ES256', { extractable: true });
  const registered = await admin(base, dataDir, 'POST', '/admin/v1/agents', { name, owners: [human], policy: 'bench', jwk: await exportJWK(client.publicKey) });
  return { id: registered.id as string, human, client };
}

/** Attests (and, with `ask`, asks, approves through the admin API and collects the grant). */
export async function prepareAgent(base: string, dataDir: string, registered: Awaited<ReturnType<typeof registerAgent>>, ask: boolean): Promise<BenchAgent> {
  const dpopPair = await generateKeyPair('ES256', { extractable: true });
  const evidence = [{ attestor: 'code-digest', evidence: { digest: `sha256:${'a'.repeat(64)}` } }];
  const sdk = createAgentClient({ issuer: base, clientId: registered.id, clientKey: registered.client.privateKey, dpopKey: dpopPair, evidence });
  const attested = await sdk.attest();
  const dpopJwk = await exportJWK(dpopPair.publicKey);
  const agent: BenchAgent = {
    id: registered.id, clientKey: KeyObject.from(registered.client.privateKey), dpopKey: KeyObject.from(dpopPair.privateKey), dpopJwk,
    jkt: await calculateJwkThumbprint(dpopJwk), attestation: attested.attestation,
  };
  if (!ask) return agent;
  const task = { purpose: 'benchmark', audience: AUDIENCE, actions: ['read'], notAfter: Math.floor(Date.now() / 1000) + 3600 };
  const { authReqId } = await sdk.ask({ loginHint: registered.human, bindingMessage: 'benchmark', task, attestation: attested });
  const { mandates } = await admin(base, dataDir, 'GET', `/admin/v1/mandates?status=pending&agent=${registered.id}`);
  await admin(base, dataDir, 'POST', `/admin/v1/mandates/${mandates[0].id}/approve`);
  // Approved before the first poll, so no wait is needed: poll at once (the broker's interval binds pending requests only).
  const { grant } = await sdk.waitForApproval(authReqId, { timeoutMs: 30_000, interval: 0.01 });
  return { ...agent, grant };
}

/**
 * The product's default per-client rate limit (docs/limits.md), read from the config schema so the
 * bench follows the defaults it runs with. A pool of agents shares the load round-robin. Over a
 * plan of T seconds (warm-up and runs) the limiter lets one agent through at most burst + rate·T
 * times, so the pool is sized for `BENCH_MAX_RATE` mints/s (default 2000, over 5× the attested
 * rate measured on the reference machine) to stay within that. Each agent costs ~7 durable
 * commits to prepare, hence no larger pool than needed.
 */
export const PER_CLIENT_LIMIT = loadConfig({ flags: {}, env: {} }).limits.perClient;

export function maxBenchRate(): number {
  return Number(process.env.BENCH_MAX_RATE ?? 2000);
}

export function poolSize(plan: Plan, maxRate = maxBenchRate()): number {
  const seconds = (plan.warmupMs + plan.runs * plan.runMs) / 1000;
  return Math.max(1, Math.ceil((maxRate * seconds) / (PER_CLIENT_LIMIT.burst + PER_CLIENT_LIMIT.rate * seconds)));
}

/** One line for the bench output: the limit the server runs with and how the pool stays under it. */
export function rateLimitNote(size: number): string {
  const { rate, burst } = PER_CLIENT_LIMIT;
  return `rate limits: product defaults (per client ${rate}/s, burst ${burst}); load round-robin over ${size} agents, each within its limit up to ${maxBenchRate()} mints/s`;
}

/** `count` agents registered, attested and (with `ask`) holding an approved mandate, prepared `parallel` at a time. */
export async function preparePool(base: string, dataDir: string, count: number, ask: boolean, name: string, parallel = 32): Promise<BenchAgent[]> {
  const pool: BenchAgent[] = [];
  for (let start = 0; start < count; start += parallel) {
    const batch = Array.from({ length: Math.min(parallel, count - start) }, async (_, i) =>
      prepareAgent(base, dataDir, await registerAgent(base, dataDir, `${name}-${start + i}`), ask));
    pool.push(...(await Promise.all(batch)));
  }
  return pool;
}

/** Registered agents for the autonomous case (their ids go in the audience's opt-in before they attest). */
export async function registerPool(base: string, dataDir: string, count: number, name: string, parallel = 32) {
  const registered: Array<Awaited<ReturnType<typeof registerAgent>>> = [];
  for (let start = 0; start < count; start += parallel)
    registered.push(...(await Promise.all(Array.from({ length: Math.min(parallel, count - start) }, (_, i) => registerAgent(base, dataDir, `${name}-${start + i}`)))));
  return registered;
}

/** The next agent of the pool, in turn. */
export function roundRobin<T>(pool: readonly T[]): () => T {
  let next = 0;
  return () => pool[next++ % pool.length]!;
}

let counter = 0;

/** A fresh client assertion and DPoP proof (unique jti, current iat) on cached KeyObjects; `proof` reuses one. */
function freshProofs(base: string, agent: BenchAgent, reuse?: string) {
  const now = Math.floor(Date.now() / 1000);
  const jti = `${process.pid}-${++counter}`;
  const assertion = signEs256({ typ: 'client-authentication+jwt' }, { iss: agent.id, sub: agent.id, aud: base, iat: now, exp: now + 30, jti }, agent.clientKey);
  const proof = reuse ?? signEs256({ typ: 'dpop+jwt', jwk: agent.dpopJwk }, { jti, htm: 'POST', htu: `${base}/token`, iat: now }, agent.dpopKey);
  return { now, jti, assertion, proof };
}

export interface PreparedRequest {
  url: string;
  init: { method: 'POST'; headers: Record<string, string>; body: string };
}

/** PROTOCOL §5 token exchange: the grant as subject, the attestation result as actor. */
export function exchangeRequest(base: string, agent: BenchAgent, reuseProof?: string): PreparedRequest {
  const { assertion, proof } = freshProofs(base, agent, reuseProof);
  const body = new URLSearchParams({
    grant_type: GRANT_TYPE.tokenExchange, client_assertion_type: CLIENT_ASSERTION_TYPE, client_assertion: assertion,
    subject_token: agent.grant!, subject_token_type: TOKEN_TYPE.refreshToken, actor_token: agent.attestation, actor_token_type: TOKEN_TYPE.jwt, resource: AUDIENCE,
  });
  return { url: `${base}/token`, init: { method: 'POST', headers: { dpop: proof, 'content-type': 'application/x-www-form-urlencoded' }, body: body.toString() } };
}

/** PROTOCOL §5 autonomous mint: `client_credentials`, the attestation result in the client-attestation headers. */
export function clientCredentialsRequest(base: string, agent: BenchAgent, reuseProof?: string): PreparedRequest {
  const { now, jti, assertion, proof } = freshProofs(base, agent, reuseProof);
  const pop = signEs256({ typ: 'oauth-client-attestation-pop+jwt' }, { iss: agent.id, aud: base, iat: now, jti: `${jti}-pop` }, agent.dpopKey);
  const body = new URLSearchParams({ grant_type: GRANT_TYPE.clientCredentials, client_assertion_type: CLIENT_ASSERTION_TYPE, client_assertion: assertion, resource: AUTONOMOUS_AUDIENCE });
  const headers = { dpop: proof, 'content-type': 'application/x-www-form-urlencoded', [HTTP_HEADER.clientAttestation]: agent.attestation, [HTTP_HEADER.clientAttestationPop]: pop };
  return { url: `${base}/token`, init: { method: 'POST', headers, body: body.toString() } };
}

export const send = (request: PreparedRequest) => fetch(request.url, request.init);

/**
 * The correctness checks a run must pass: the sample token verifies with jose against the JWKS
 * (issuer, audience, `typ: at+jwt`, ES256), names one of the agents as actor (exchange) or
 * subject (autonomous), and is bound to that agent's DPoP key.
 */
export function tokenChecker(base: string, agents: BenchAgent | readonly BenchAgent[], audience: string, autonomous: boolean) {
  const jwks = createRemoteJWKSet(new URL(`${base}/jwks`));
  const byId = new Map([agents].flat().map((agent) => [agent.id, agent]));
  return async (text: string) => {
    const body = JSON.parse(text) as { access_token: string; token_type: string };
    const { payload } = await jwtVerify(body.access_token, jwks, { issuer: base, audience, typ: 'at+jwt', algorithms: ['ES256'] });
    const actor = autonomous ? payload.sub : (payload.act as { sub?: string } | undefined)?.sub;
    // The actor is one of the pool's agents, and the token is bound to that agent's DPoP key.
    const agent = typeof actor === 'string' ? byId.get(actor) : undefined;
    if (body.token_type !== 'DPoP' || !agent || (payload.cnf as { jkt?: string }).jkt !== agent.jkt)
      throw new Error(`token check failed: token_type ${body.token_type}, actor ${String(actor)}`);
  };
}

/**
 * Replays are refused: the same request sent again (client assertion and DPoP proof reused), and a
 * fresh client assertion with the first request's DPoP proof (RFC 9449 §11.1: `jti` single-use).
 */
export async function checkReplayRefused(make: (reuseProof?: string) => PreparedRequest) {
  const request = make();
  const first = await send(request);
  await first.text();
  const replay = await send(request);
  const { error } = (await replay.json()) as { error: string };
  const proofOnly = await send(make(request.init.headers.dpop));
  const { error: proofError } = (await proofOnly.json()) as { error: string };
  if (first.status !== 200 || replay.status < 400 || proofOnly.status < 400) throw new Error(`replay check: first ${first.status}, replay ${replay.status}, proof replay ${proofOnly.status}`);
  return { first: first.status, replay: replay.status, error, proofReplay: proofOnly.status, proofError };
}
