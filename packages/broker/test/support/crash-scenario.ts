/**
 * One crash-consistency run (issue #11 item 3): a real `mandate serve` under mint load from SDK
 * agents is killed with SIGKILL at a seeded random moment while `/token` requests are open,
 * `mandate audit verify` runs on the dead broker's data, the broker restarts on the same data and
 * must serve mints again; after the last kill a final round runs, the broker stops (SIGTERM) and
 * the store is read back (crash-check.ts).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPostgresStore } from '../../src/store/postgres/index.ts';
import { createSqliteStore } from '../../src/store/sqlite/index.ts';
import { STORE_FILE } from '../../src/store/open-store.ts';
import type { Store } from '../../src/ports/store.ts';
import { runCli } from './cli-runner.ts';
import { registerAgent, runAgent, type CrashAgent, type LoadContext, type ReceivedToken, type Round } from './crash-agents.ts';
import { adminTokenOf, killBroker, startBroker, stopBroker, type BrokerProcess } from './crash-broker.ts';
import { checkLedger, type LedgerCheck } from './crash-check.ts';
import { chainLockFreeAfterKill } from './crash-chain-lock.ts';
import { createTraffic, type Traffic, type TrafficCounts } from './crash-traffic.ts';

const ISSUER = 'https://mandate.example.com';
const API = 'https://api.example.com';
const AUTO_API = 'https://auto.example.com';

export interface CrashOptions {
  store: 'sqlite' | 'postgres';
  /** A database of a throwaway cluster (test/support/postgres.ts) when `store` is postgres. */
  storeUrl?: string;
  kills: number;
  seed: number;
  /** Longest random delay between the first token of a round and the kill. */
  maxDelayMs?: number;
  mandateAgents?: number;
  autonomousAgents?: number;
  maxUses?: number;
}

export interface KillRecord {
  round: number;
  delayMs: number;
  receivedBeforeKill: number;
  tokenInFlight: number;
  verifyExit: number;
  verifyOutput: string;
  restartMs: number;
  /** Of `restartMs`, from the listening line to `/readyz` 200. */
  readyAfterListenMs: number;
  /** PostgreSQL: lock attempts until the dead broker's chain lock was free (1 = free at once). */
  chainLockAttempts?: number;
}

export interface CrashReport {
  store: string;
  seed: number;
  maxUses: number;
  kills: KillRecord[];
  /** Tokens received in the round after the last restart (the broker serves mints again). */
  finalRoundReceived: number;
  finalStopCode: number | null;
  finalVerifyExit: number;
  unexpected: string[];
  received: Record<ReceivedToken['kind'], number>;
  traffic: TrafficCounts & { afterKill: number; rateLimited: number };
  check: LedgerCheck;
}

/** mulberry32: a small seeded generator, so a failing run can be replayed with its seed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(condition: () => boolean, timeoutMs: number, what: string, pollMs = 5): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(pollMs);
  }
}

function config(autonomousAgents: string[]): string {
  return JSON.stringify({
    issuer: ISSUER,
    audiences: {
      [API]: { actions: ['read'] },
      [AUTO_API]: { actions: ['read'], ...(autonomousAgents.length ? { autonomous: { agents: autonomousAgents, actions: ['read'] } } : {}) },
    },
    ciba: { maxPendingPerAgent: 1000 },
    attestation: { attestors: { 'code-digest': {} }, policies: { default: { anyOf: [{ allOf: [{ attestor: 'code-digest', minStatus: 'warning' }] }] } } },
  });
}

export async function runCrashScenario(options: CrashOptions): Promise<CrashReport> {
  const dir = mkdtempSync(join(tmpdir(), `mandate-crash-${options.store}-`));
  try {
    return await run(options, dir);
  } finally {
    if (!process.env.MANDATE_CRASH_KEEP) rmSync(dir, { recursive: true, force: true });
  }
}

/** What the steps of one run share: the data, the broker of the moment, its agents and the ledger. */
interface Run {
  options: CrashOptions;
  data: string;
  configFile: string;
  env: Record<string, string>;
  traffic: Traffic;
  broker: BrokerProcess;
  ctx: LoadContext;
  agents: CrashAgent[];
  ledger: ReceivedToken[];
  unexpected: string[];
  afterKill: number;
  rateLimited: number;
  starts: number;
}

/** The agents that run now: the autonomous ones only once a start has read their opt-in. */
const running = (r: Run) => r.agents.filter((agent) => !agent.autonomous || r.starts > 1);

async function run(options: CrashOptions, dir: string): Promise<CrashReport> {
  const r = await setUp(options, dir);
  const random = seededRandom(options.seed);
  const kills: KillRecord[] = [];
  for (let index = 0; index < options.kills; index++) kills.push(await killRound(r, index, Math.round(random() * (options.maxDelayMs ?? 600))));
  const final = await finalRound(r);
  const finalStopCode = await stopBroker(r.broker);
  const finalVerify = await verify(r);
  const check = await readBack(r);
  const count = (kind: ReceivedToken['kind']) => r.ledger.filter((t) => t.kind === kind).length;
  return {
    store: options.store, seed: options.seed, maxUses: r.ctx.maxUses, kills, finalRoundReceived: final.received.length, finalStopCode,
    finalVerifyExit: finalVerify.exitCode, unexpected: r.unexpected, received: { ciba: count('ciba'), exchange: count('exchange'), autonomous: count('autonomous') },
    traffic: { ...r.traffic.counts(), afterKill: r.afterKill, rateLimited: r.rateLimited }, check,
  };
}

/** First start and the agents registered; the autonomous ones are opted in from the next start on (their ids exist only now). */
async function setUp(options: CrashOptions, dir: string): Promise<Run> {
  const data = join(dir, 'data');
  const configFile = join(dir, 'config.json');
  const env: Record<string, string> = options.store === 'postgres' ? { MANDATE_STORE_URL: options.storeUrl! } : {};
  const r = { options, data, configFile, env, traffic: createTraffic(ISSUER), agents: [], ledger: [], unexpected: [], afterKill: 0, rateLimited: 0, starts: 0 } as unknown as Run;
  writeFileSync(configFile, config([]));
  await start(r);
  const admin: LoadContext['admin'] = (method, path, body) => adminCall(r, method, path, body);
  const humans = await admin('GET', '/admin/v1/humans');
  r.ctx = { issuer: ISSUER, api: API, autoApi: AUTO_API, maxUses: options.maxUses ?? 3, human: String(humans.body.humans[0].id), fetch: r.traffic.fetch, admin };
  for (let i = 0; i < (options.mandateAgents ?? 3); i++) r.agents.push(await registerAgent(r.ctx, `crash-mandate-${i}`, false));
  for (let i = 0; i < (options.autonomousAgents ?? 2); i++) r.agents.push(await registerAgent(r.ctx, `crash-auto-${i}`, true));
  // Read at the next start, i.e. after the first kill: the first round runs without the autonomous agents.
  writeFileSync(configFile, config(r.agents.filter((a) => a.autonomous).map((a) => a.id)));
  return r;
}

async function start(r: Run): Promise<void> {
  r.broker = await startBroker({ data: r.data, configFile: r.configFile, env: r.env });
  r.starts++;
  r.traffic.route(r.broker.base);
}

async function adminCall(r: Run, method: string, path: string, body?: unknown) {
  const response = await fetch(r.broker.base + path, {
    method,
    headers: { authorization: `Bearer ${adminTokenOf(r.data)}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: response.status, body: (await response.json()) as Record<string, any> };
}

/** `mandate audit verify` on the data as it is (in-process CLI, the same code path as the command). */
const verify = (r: Run) => runCli(['audit', 'verify', '--data', r.data, '--config', r.configFile], r.env);

const newRound = (index: number): Round => ({ index, killed: false, stopped: false, received: [], unexpected: [], afterKill: 0, rateLimited: 0 });

function endRound(r: Run, round: Round, label: string): void {
  r.unexpected.push(...round.unexpected.map((e) => `${label}: ${e}`));
  r.afterKill += round.afterKill;
  r.rateLimited += round.rateLimited;
}

/** Load until a token came back (the broker serves mints), a seeded delay, a kill while /token requests are open, verify, restart. */
async function killRound(r: Run, index: number, delayMs: number): Promise<KillRecord> {
  const round = newRound(index);
  const workers = running(r).map((agent) => runAgent(r.ctx, agent, round, r.ledger));
  await until(() => round.received.length > 0 || round.unexpected.length > 0, 60_000, `a token in round ${index}`);
  await sleep(delayMs);
  await until(() => r.traffic.tokenInFlight() > 0 || round.unexpected.length > 0, 10_000, `a /token request in flight in round ${index}`, 0);
  const tokenInFlight = r.traffic.tokenInFlight();
  r.traffic.markKill();
  round.killed = true;
  await killBroker(r.broker);
  const lock = r.options.store === 'postgres' ? await chainLockFreeAfterKill(r.options.storeUrl!, 'main') : undefined;
  await Promise.race([Promise.all(workers), sleep(30_000).then(() => round.unexpected.push('agents still running 30 s after the kill'))]);
  endRound(r, round, `round ${index}`);
  const verified = await verify(r);
  await start(r);
  return {
    round: index, delayMs, receivedBeforeKill: round.received.length, tokenInFlight, verifyExit: verified.exitCode, verifyOutput: verified.out + verified.err,
    restartMs: Math.round(r.broker.startMs), readyAfterListenMs: Math.round(r.broker.readyAfterListenMs), ...(lock ? { chainLockAttempts: lock.attempts } : {}),
  };
}

/** After the last restart: every agent's worth of tokens again, then the round ends without a kill. */
async function finalRound(r: Run): Promise<Round> {
  const final = newRound(r.options.kills);
  const workers = running(r).map((agent) => runAgent(r.ctx, agent, final, r.ledger));
  await until(() => final.received.length >= r.agents.length || final.unexpected.length > 0, 60_000, 'tokens in the final round').finally(() => (final.stopped = true));
  await Promise.all(workers);
  endRound(r, final, 'final round');
  return final;
}

async function readBack(r: Run): Promise<LedgerCheck> {
  const store = await openReadonly(r.options, r.data);
  try {
    return await checkLedger(store, r.ledger, r.agents.filter((a) => !a.autonomous).map((a) => a.id));
  } finally {
    await store.close();
  }
}

async function openReadonly(options: CrashOptions, data: string): Promise<Store> {
  if (options.store === 'postgres') return createPostgresStore({ url: options.storeUrl!, readonly: true, poolSize: 2 });
  return createSqliteStore({ path: join(data, STORE_FILE), readonly: true });
}
