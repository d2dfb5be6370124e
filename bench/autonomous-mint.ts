/**
 * BENCH.md P3: autonomous agents' `client_credentials` mints (PROTOCOL §5) over HTTP, round-robin
 * over a pool so that none exceeds the default per-client rate limit (docs/limits.md), with the
 * attestation result reused within its freshness window in the client-attestation headers, a
 * fresh client assertion, attestation PoP and DPoP proof per request, and durable audit.
 * The agents' ids must be named in the audience's `autonomous` opt-in, so the server is started
 * once to register them, then restarted on the same data directory with the opt-in.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CONCURRENCY, closedLoopHttp, stopChild, type HttpCaseResult } from './http-load.ts';
import { AUTONOMOUS_AUDIENCE, benchConfig, checkReplayRefused, clientCredentialsRequest, poolSize, prepareAgent, rateLimitNote, registerPool, roundRobin, send, startMandate, tokenChecker, type BenchAgent } from './mandate-server.ts';
import type { Plan } from './measure.ts';

export async function autonomousMint(plan: Plan, port: number): Promise<HttpCaseResult & { agents: number; replay: Awaited<ReturnType<typeof checkReplayRefused>> }> {
  const dir = mkdtempSync(join(tmpdir(), 'mandate-bench-auto-'));
  const dataDir = join(dir, 'data');
  try {
    // docs/limits.md: default rate limits; the load goes round-robin over a pool of opted-in agents.
    const size = poolSize(plan);
    const first = await startMandate(dir, port, dataDir, benchConfig());
    const registered = await registerPool(first.base, dataDir, size, 'bench-autonomous').finally(() => stopChild(first.child));
    const { child, base } = await startMandate(dir, port, dataDir, benchConfig(registered.map((r) => r.id)));
    try {
      const pool: BenchAgent[] = [];
      for (let start = 0; start < size; start += 32)
        pool.push(...(await Promise.all(registered.slice(start, start + 32).map((r) => prepareAgent(base, dataDir, r, false)))));
      process.stderr.write(`${rateLimitNote(size)}\n`);
      const next = roundRobin(pool);
      const result = await closedLoopHttp({
        name: `autonomous client_credentials mint over HTTP (attestation headers + DPoP, ${CONCURRENCY} in flight, durable audit)`, unit: 'mints/s', plan, pid: child.pid!,
        send: () => send(clientCredentialsRequest(base, next())),
        checkSample: tokenChecker(base, pool, AUTONOMOUS_AUDIENCE, true),
      });
      const agent = next();
      return { ...result, agents: size, replay: await checkReplayRefused((reuse) => clientCredentialsRequest(base, agent, reuse)) };
    } finally {
      await stopChild(child);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
