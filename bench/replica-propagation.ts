/**
 * P8 across two replicas: revoke on replica A (admin API, `POST /admin/v1/mandates/{id}/revoke`)
 * → first refused use at a resource server that calls continuously through the SDK verifier,
 * which trusts the issuer served by replica B (JWKS, status list) or, in push mode, the SETs its
 * registered SSF stream receives from whichever replica wins the outbox row.
 *
 * Each worker has its own agent (so "the pending mandate of this agent" is unambiguous); each
 * sample asks for a fresh mandate, approves it on A, collects the grant, mints on A, checks that
 * the token is accepted, then revokes the mandate on A while calling, and records the time from
 * sending the revocation to the first ERR_TOKEN_REVOKED. Bounded: a sample gives up after 10 s.
 */
import { createHash, KeyObject } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { calculateJwkThumbprint, exportJWK, generateKeyPair } from 'jose';
import { createAgentClient, type Verifier } from '@mandate/sdk';
import { timeToFirstRejection, type Sample } from './first-rejection.ts';
import { createSsfReceiver, registerSsfStream } from '@mandate/sdk/ssf-receiver';
import { signEs256 } from './http-load.ts';
import { admin, AUDIENCE, exchangeRequest, registerAgent, send, type BenchAgent } from './mandate-server.ts';
import { RS_SECRET, toReplica, type ReplicaPair } from './replica-deployment.ts';

export const RS_URL = 'https://rs.bench.example';


interface WorkerAgent {
  agent: BenchAgent;
  client: ReturnType<typeof createAgentClient>;
  attested: Awaited<ReturnType<ReturnType<typeof createAgentClient>['attest']>>;
  human: string;
}

/** Registers (admin API on A) and attests (at the issuer) one agent per worker. */
export async function workerAgent(pair: ReplicaPair, name: string): Promise<WorkerAgent> {
  const registered = await registerAgent(pair.a.base, pair.a.dataDir, name);
  const dpopPair = await generateKeyPair('ES256', { extractable: true });
  const evidence = [{ attestor: 'code-digest', evidence: { digest: `sha256:${'a'.repeat(64)}` } }];
  const client = createAgentClient({ issuer: pair.issuer, clientId: registered.id, clientKey: registered.client.privateKey, dpopKey: dpopPair, evidence });
  const attested = await client.attest();
  const dpopJwk = await exportJWK(dpopPair.publicKey);
  const agent: BenchAgent = {
    id: registered.id, clientKey: KeyObject.from(registered.client.privateKey), dpopKey: KeyObject.from(dpopPair.privateKey), dpopJwk,
    jkt: await calculateJwkThumbprint(dpopJwk), attestation: attested.attestation,
  };
  return { agent, client, attested, human: registered.human };
}

/** Ask → approve on A → grant; returns the mandate id and the agent holding its grant. */
async function freshMandate(pair: ReplicaPair, w: WorkerAgent) {
  const task = { purpose: 'benchmark', audience: AUDIENCE, actions: ['read'], notAfter: Math.floor(Date.now() / 1000) + 3600 };
  const { authReqId } = await w.client.ask({ loginHint: w.human, bindingMessage: 'benchmark', task, attestation: w.attested });
  const { mandates } = await admin(pair.a.base, pair.a.dataDir, 'GET', `/admin/v1/mandates?status=pending&agent=${w.agent.id}`);
  if (mandates.length !== 1) throw new Error(`expected one pending mandate of ${w.agent.id}, found ${mandates.length}`);
  await admin(pair.a.base, pair.a.dataDir, 'POST', `/admin/v1/mandates/${mandates[0].id}/approve`);
  const { grant } = await w.client.waitForApproval(authReqId, { interval: 0.05, timeoutMs: 30_000 }); // approved already: the first poll collects it
  return { mandateId: mandates[0].id as string, agent: { ...w.agent, grant } };
}

let counter = 0;

/** One call at the resource server: a fresh DPoP proof, the SDK verifier's full check. */
function call(verifier: Verifier, agent: BenchAgent, token: string) {
  const now = Math.floor(Date.now() / 1000);
  const ath = createHash('sha256').update(token).digest('base64url');
  const proof = signEs256({ typ: 'dpop+jwt', jwk: agent.dpopJwk }, { jti: `${process.pid}-r-${++counter}`, htm: 'GET', htu: `${RS_URL}/items`, iat: now, ath }, agent.dpopKey as KeyObject);
  return verifier.verifyRequest({ method: 'GET', url: '/items', headers: { authorization: `DPoP ${token}`, dpop: proof } });
}

async function sample(pair: ReplicaPair, w: WorkerAgent, verifier: Verifier): Promise<Sample> {
  const { mandateId, agent } = await freshMandate(pair, w);
  const minted = await send(toReplica(exchangeRequest(pair.issuer, agent), pair.a));
  if (minted.status !== 200) throw new Error(`mint on A: HTTP ${minted.status} ${await minted.text()}`);
  const token = ((await minted.json()) as { access_token: string }).access_token;
  await call(verifier, agent, token);
  return timeToFirstRejection(() => call(verifier, agent, token), () => admin(pair.a.base, pair.a.dataDir, 'POST', `/admin/v1/mandates/${mandateId}/revoke`, { reason: 'benchmark' }));
}

/** `revocations` samples over the workers' agents, one sample at a time per worker. */
export async function measureMode(pair: ReplicaPair, agents: WorkerAgent[], verifier: Verifier, revocations: number): Promise<Sample[]> {
  const samples: Sample[] = [];
  let next = 0;
  await Promise.all(agents.map(async (w) => {
    while (next++ < revocations) samples.push(await sample(pair, w, verifier));
  }));
  return samples;
}

const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;

export function summary(samples: Sample[]) {
  const sorted = samples.map((s) => s.ms).sort((a, b) => a - b);
  const revoke = samples.map((s) => s.revokeMs).sort((a, b) => a - b);
  return {
    n: sorted.length, p50Seconds: quantile(sorted, 0.5) / 1000, p99Seconds: quantile(sorted, 0.99) / 1000, minSeconds: sorted[0]! / 1000, maxSeconds: sorted.at(-1)! / 1000,
    revokeResponseP50Seconds: quantile(revoke, 0.5) / 1000, revokeResponseP99Seconds: quantile(revoke, 0.99) / 1000,
  };
}

/** The resource server's SSF push endpoint on 127.0.0.1, its stream registered at the issuer. */
export async function pushEndpoint(pair: ReplicaPair) {
  const receiver = createSsfReceiver({ issuer: pair.issuer, audience: AUDIENCE, jwks: `${pair.issuer}/jwks` });
  const server: Server = createServer((req, res) => receiver.nodeHandler(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const endpointUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/ssf/events`;
  await registerSsfStream({ issuer: pair.issuer, clientId: AUDIENCE, clientSecret: RS_SECRET, endpointUrl });
  return { receiver, close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(resolve); }) };
}
