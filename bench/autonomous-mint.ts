/**
 * BENCH.md P3: an autonomous agent's `client_credentials` mint (PROTOCOL §5) over HTTP, with the
 * attestation result reused within its freshness window in the client-attestation headers, a
 * fresh client assertion, attestation PoP and DPoP proof per request, and durable audit.
 * The agent's id must be named in the audience's `autonomous` opt-in, so the server is started
 * once to register it, then restarted on the same data directory with the opt-in.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CONCURRENCY, closedLoopHttp, stopChild, type HttpCaseResult } from './http-load.ts';
import { AUTONOMOUS_AUDIENCE, benchConfig, checkReplayRefused, clientCredentialsRequest, prepareAgent, registerAgent, send, startMandate, tokenChecker } from './mandate-server.ts';
import type { Plan } from './measure.ts';

export async function autonomousMint(plan: Plan, port: number): Promise<HttpCaseResult & { replay: Awaited<ReturnType<typeof checkReplayRefused>> }> {
  const dir = mkdtempSync(join(tmpdir(), 'mandate-bench-auto-'));
  const dataDir = join(dir, 'data');
  try {
    const first = await startMandate(dir, port, dataDir, benchConfig());
    const registered = await registerAgent(first.base, dataDir, 'bench-autonomous').finally(() => stopChild(first.child));
    const { child, base } = await startMandate(dir, port, dataDir, benchConfig([registered.id]));
    try {
      const agent = await prepareAgent(base, dataDir, registered, false);
      const result = await closedLoopHttp({
        name: `autonomous client_credentials mint over HTTP (attestation headers + DPoP, ${CONCURRENCY} in flight, durable audit)`, unit: 'mints/s', plan, pid: child.pid!,
        send: () => send(clientCredentialsRequest(base, agent)),
        checkSample: tokenChecker(base, agent, AUTONOMOUS_AUDIENCE, true),
      });
      return { ...result, replay: await checkReplayRefused((reuse) => clientCredentialsRequest(base, agent, reuse)) };
    } finally {
      await stopChild(child);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
