/**
 * The attested mint (BENCH.md P1, P2, P4, P5): the real `mandate serve` (its own process, pinned
 * to CPU 0) with its default rate limits, a pool of agents that each attested once and hold an
 * approved mandate, and a closed-loop load generator (this process) sending token exchanges
 * round-robin over the pool (so no agent exceeds the default per-client limit), each with a fresh
 * client assertion and a fresh DPoP proof, reusing the attestation result within its freshness
 * window as a real agent would.
 * Audit is synchronous and durable (SQLite FULL), or, for P5 only, the benchmark's own null audit
 * sink (bench/null-audit-server.ts). The loop, timing and stop-by-PID live in http-load.ts; the
 * server start, agent preparation and checks in mandate-server.ts.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CONCURRENCY, closedLoopHttp, stopChild, type HttpCaseResult } from './http-load.ts';
import { AUDIENCE, benchConfig, checkReplayRefused, exchangeRequest, poolSize, preparePool, rateLimitNote, roundRobin, send, startMandate, tokenChecker, type ServerEntry } from './mandate-server.ts';
import type { Plan } from './measure.ts';

export interface AttestedMintOptions {
  /**
   * An existing data directory (store, signing key, `admin-token` of its bootstrap human) to serve
   * instead of a fresh one; it is left in place for its owner to delete (bench/scale.ts).
   */
  dataDir?: string;
  /** Called with the server process once it listens, so a caller can stop it by PID on SIGINT. */
  onServer?: (child: ChildProcess) => void;
  /** `null-audit` serves through the benchmark's own composition root (P5). */
  entry?: ServerEntry;
  /** `store.*` settings for the server (bench/scale.ts: `mmapSizeMb`). */
  store?: Record<string, unknown>;
}

/**
 * The case with its runs; `nonOk` counts non-2xx responses (the target is 0); `replay` is the
 * check that the same request sent twice is refused the second time.
 *
 * @example
 * const onEmptyStore = await attestedMint(QUICK_PLAN, 7491);
 * const onBigStore = await attestedMint(QUICK_PLAN, 7491, { dataDir: '/tmp/scale/data' });
 */
export async function attestedMint(plan: Plan, port: number, options: AttestedMintOptions = {}): Promise<HttpCaseResult & { agents: number; replay: Awaited<ReturnType<typeof checkReplayRefused>> }> {
  const dir = mkdtempSync(join(tmpdir(), 'mandate-bench-http-'));
  const dataDir = options.dataDir ?? join(dir, 'data');
  const entry = options.entry ?? 'serve';
  const config = benchConfig();
  const { child, base } = await startMandate(dir, port, dataDir, options.store ? { ...config, store: { ...(config.store as object | undefined), ...options.store } } : config, entry);
  options.onServer?.(child);
  try {
    // docs/limits.md: the server runs with the default rate limits; the load is spread over a pool.
    const size = poolSize(plan);
    const pool = await preparePool(base, dataDir, size, true, `bench-agent-${Date.now()}`);
    process.stderr.write(`${rateLimitNote(size)}\n`);
    const next = roundRobin(pool);
    const audit = entry === 'serve' ? 'durable audit' : 'null audit sink, bench only';
    const result = await closedLoopHttp({
      name: `attested DPoP mint over HTTP (token exchange, ${CONCURRENCY} in flight, ${audit})`, unit: 'mints/s', plan, pid: child.pid!,
      send: () => send(exchangeRequest(base, next())),
      checkSample: tokenChecker(base, pool, AUDIENCE, false),
    });
    const agent = next();
    return { ...result, agents: size, replay: await checkReplayRefused((reuse) => exchangeRequest(base, agent, reuse)) };
  } finally {
    await stopChild(child);
    rmSync(dir, { recursive: true, force: true });
  }
}
