/**
 * The soak's client side: agents prepared like the benchmark's (attested, mandate approved
 * through the admin API), a paced load of attested DPoP token exchanges (each with a fresh client
 * assertion and a fresh DPoP proof), periodic re-attestation within the policy's freshness, and a
 * recorder that cuts the run into sampling windows. Every loop ends at a deadline.
 */
import { KeyObject } from 'node:crypto';
import { calculateJwkThumbprint, exportJWK, generateKeyPair } from 'jose';
import { createAgentClient } from '@mandate/sdk';
import { admin, AUDIENCE, exchangeRequest, registerAgent, send, type BenchAgent, type PreparedRequest } from '../../../../bench/mandate-server.ts';

export interface SoakAgent extends BenchAgent {
  /** Attests again (fresh challenge and evidence); the new result replaces `attestation`. */
  reattest(): Promise<void>;
}

/** Registers, attests, asks, approves (admin API) and collects the grant, keeping the SDK client. */
export async function prepareSoakAgent(base: string, dataDir: string, name: string): Promise<SoakAgent> {
  const registered = await registerAgent(base, dataDir, name);
  const dpopPair = await generateKeyPair('ES256', { extractable: true });
  const evidence = [{ attestor: 'code-digest', evidence: { digest: `sha256:${'b'.repeat(64)}` } }];
  const sdk = createAgentClient({ issuer: base, clientId: registered.id, clientKey: registered.client.privateKey, dpopKey: dpopPair, evidence });
  const attested = await sdk.attest();
  const task = { purpose: 'soak', audience: AUDIENCE, actions: ['read'], notAfter: Math.floor(Date.now() / 1000) + 3 * 3600 };
  const { authReqId } = await sdk.ask({ loginHint: registered.human, bindingMessage: 'soak', task, attestation: attested });
  const { mandates } = await admin(base, dataDir, 'GET', `/admin/v1/mandates?status=pending&agent=${registered.id}`);
  await admin(base, dataDir, 'POST', `/admin/v1/mandates/${mandates[0].id}/approve`);
  const { grant } = await sdk.waitForApproval(authReqId, { timeoutMs: 30_000 });
  const dpopJwk = await exportJWK(dpopPair.publicKey);
  const agent: SoakAgent = {
    id: registered.id, clientKey: KeyObject.from(registered.client.privateKey), dpopKey: KeyObject.from(dpopPair.privateKey), dpopJwk,
    jkt: await calculateJwkThumbprint(dpopJwk), attestation: attested.attestation, grant,
    reattest: async () => void (agent.attestation = (await sdk.attest()).attestation),
  };
  return agent;
}

/** One sampling window of the load, as the recorder hands it over. */
export interface WindowFigures {
  requests: number;
  ok: number;
  nonOk: number;
  attests: number;
  attestFailures: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

export interface Failure {
  what: 'mint' | 'attest';
  status: number;
  body: string;
}

/** A proof the load sent and the server accepted, kept to replay at the end. */
export interface SentProof {
  at: number;
  agent: SoakAgent;
  proof: string;
}

export const percentile = (sorted: number[], p: number) => (sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!);
export const median = (values: number[]) => percentile([...values].sort((a, b) => a - b), 0.5);

/** Accumulates the current window; `cut()` returns it and starts the next. Totals run on. */
export class SoakRecorder {
  totals = { requests: 0, ok: 0, nonOk: 0, attests: 0, attestFailures: 0 };
  failures: Failure[] = [];
  /** Accepted proofs, one kept every `keepEveryMs` (a bounded ring). */
  kept: SentProof[] = [];
  /** The `jti` of every access token received: each must have its audit record. */
  issued: string[] = [];
  private window = { requests: 0, ok: 0, nonOk: 0, attests: 0, attestFailures: 0, latencies: [] as number[] };
  private lastKept = 0;

  mint(ms: number, ok: boolean, proof: SentProof, failure?: Failure, jti?: string): void {
    this.window.requests++;
    if (jti !== undefined) this.issued.push(jti);
    this.window.latencies.push(ms);
    if (ok) this.window.ok++;
    else this.window.nonOk++;
    if (failure && this.failures.length < 20) this.failures.push(failure);
    if (ok && proof.at - this.lastKept >= 5_000) {
      this.kept.push(proof);
      if (this.kept.length > 64) this.kept.shift();
      this.lastKept = proof.at;
    }
  }

  attest(ok: boolean, failure?: Failure): void {
    this.window.attests++;
    if (!ok) this.window.attestFailures++;
    if (failure && this.failures.length < 20) this.failures.push(failure);
  }

  cut(): WindowFigures {
    const { latencies, ...counts } = this.window;
    latencies.sort((a, b) => a - b);
    for (const key of Object.keys(this.totals) as Array<keyof typeof this.totals>) this.totals[key] += counts[key];
    this.window = { requests: 0, ok: 0, nonOk: 0, attests: 0, attestFailures: 0, latencies: [] };
    return { ...counts, p50Ms: percentile(latencies, 0.5), p99Ms: percentile(latencies, 0.99), maxMs: latencies.at(-1) ?? 0 };
  }
}

/** The access token's `jti` (payload read without verifying: the run's sample check verifies one with jose). */
function jtiOf(body: string): string {
  const token = (JSON.parse(body) as { access_token: string }).access_token;
  return (JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as { jti: string }).jti;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));

export interface LoadPlan {
  base: string;
  agents: SoakAgent[];
  /** Workers per agent: `agents × workersPerAgent` requests at most in flight. */
  workersPerAgent: number;
  /** Target mints per second over all workers (each worker paced to its share). */
  ratePerSecond: number;
  reattestEveryMs: number;
  deadline: number;
}

/** One paced worker: a token exchange every `interval`, late slots sent at once (no catch-up burst beyond one). */
async function mintWorker(plan: LoadPlan, agent: SoakAgent, intervalMs: number, offsetMs: number, recorder: SoakRecorder): Promise<void> {
  let next = performance.now() + offsetMs;
  while (Date.now() < plan.deadline) {
    await sleep(next - performance.now());
    next = Math.max(next + intervalMs, performance.now());
    const request: PreparedRequest = exchangeRequest(plan.base, agent);
    const start = performance.now();
    const response = await send(request);
    const body = await response.text();
    const proof = { at: Date.now(), agent, proof: request.init.headers.dpop! };
    const failure = response.ok ? undefined : { what: 'mint' as const, status: response.status, body: body.slice(0, 500) };
    recorder.mint(performance.now() - start, response.ok, proof, failure, response.ok ? jtiOf(body) : undefined);
  }
}

async function reattestLoop(plan: LoadPlan, agent: SoakAgent, offsetMs: number, recorder: SoakRecorder): Promise<void> {
  await sleep(Math.min(offsetMs, plan.deadline - Date.now()));
  while (Date.now() < plan.deadline) {
    try {
      await agent.reattest();
      recorder.attest(true);
    } catch (error) {
      recorder.attest(false, { what: 'attest', status: 0, body: String(error).slice(0, 500) });
    }
    await sleep(Math.min(plan.reattestEveryMs, plan.deadline - Date.now()));
  }
}

/** Runs the load until `plan.deadline`; resolves once every worker has finished its last request. */
export async function runSoakLoad(plan: LoadPlan, recorder: SoakRecorder): Promise<void> {
  const workers = plan.agents.length * plan.workersPerAgent;
  const intervalMs = (1000 * workers) / plan.ratePerSecond;
  const loops = plan.agents.flatMap((agent, a) => [
    ...Array.from({ length: plan.workersPerAgent }, (_, w) => mintWorker(plan, agent, intervalMs, ((a * plan.workersPerAgent + w) * intervalMs) / workers, recorder)),
    reattestLoop(plan, agent, plan.reattestEveryMs * ((a + 1) / plan.agents.length), recorder),
  ]);
  await Promise.all(loops);
}
