/**
 * Two `mandate serve` replicas on one PostgreSQL (docs/deployment.md), each its own process pinned
 * to CPU 0, each with its own audit chain and data directory. Both carry the same `issuer`: replica
 * B's URL, as a load balancer's would be, so the resource server's JWKS and status list come from
 * B while requests (client assertion `aud` and DPoP `htu` name the issuer) may go to either.
 * Replica A starts first and bootstraps (schema, signing key, admin human and token in its data
 * dir); B finds them in the database.
 */
import type { ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../packages/broker/test/support/postgres.ts';
import { stopChild } from './http-load.ts';
import { AUDIENCE, benchConfig, startMandate, type PreparedRequest } from './mandate-server.ts';
import type { PinnedCluster } from './pg-cluster.ts';

export const RS_SECRET = 'bench-resource-server-secret';

export interface Replica {
  base: string;
  dataDir: string;
  child: ChildProcess;
}

export interface ReplicaPair {
  issuer: string;
  a: Replica;
  b: Replica;
  stop(): Promise<void>;
}

/** The bench's broker config: `benchConfig()` plus the resource server's introspection secret (SSF stream auth), the status-list ttl, and push endpoints on loopback allowed (the RS listens on 127.0.0.1). */
export function replicaConfig(ttlSeconds: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const config = benchConfig();
  (config.audiences as Record<string, Record<string, unknown>>)[AUDIENCE]!.introspectionSecretSha256 = createHash('sha256').update(RS_SECRET).digest('base64url');
  // P8/P9 drive each agent far beyond any real agent's rate (one agent per worker, back-to-back
  // samples): rate limits off here, in both the replicas and the single-SQLite reference, so P9
  // compares like with like. `npm run bench` (P1–P5) runs with the defaults (docs/limits.md).
  return { ...config, limits: { enabled: false }, revocation: { statusListTtl: `${ttlSeconds}s`, push: { allowLoopback: true } }, ...extra };
}

export async function startReplicas(cluster: PinnedCluster, ttlSeconds: number): Promise<ReplicaPair> {
  const dir = mkdtempSync(join(tmpdir(), 'mandate-bench-replicas-'));
  const [portA, portB] = [await freePort(), await freePort()];
  const issuer = `http://localhost:${portB}`;
  const started: Replica[] = [];
  const stop = async () => {
    for (const r of started) await stopChild(r.child);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (const [name, port] of [['replica-a', portA], ['replica-b', portB]] as const) {
      const home = join(dir, name);
      mkdirSync(home);
      const config = replicaConfig(ttlSeconds, { issuer, store: { url: cluster.url }, audit: { chain: name } });
      const { child } = await startMandate(home, port, join(home, 'data'), config);
      started.push({ base: `http://localhost:${port}`, dataDir: join(home, 'data'), child });
    }
    return { issuer, a: started[0]!, b: started[1]!, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** A request built for the issuer (assertion `aud`, DPoP `htu`), sent to one replica. */
export const toReplica = (request: PreparedRequest, replica: Replica): PreparedRequest => ({ ...request, url: request.url.replace(/^http:\/\/localhost:\d+/, replica.base) });
