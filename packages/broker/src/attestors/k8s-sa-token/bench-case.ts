import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Attestor, EvidenceBinding } from '../../ports/attestor.ts';
import { evidenceAudience } from '../../services/challenge.ts';
import { createClusterSigner } from './cluster-signer.ts';
import { configSchema, create } from './index.ts';
import { createMemoryReplayCache } from '../memory-replay-cache.ts';

export interface BenchCase {
  attestor: Attestor;
  /** Distinct valid evidence bound to a fresh binding on every call. */
  next(): Promise<{ evidence: unknown; binding: EvidenceBinding }>;
  close(): Promise<void>;
}

/**
 * One cluster issuer with keys generated now, its JWKS written once to a temporary file and read
 * at create(): `verify` then measures only the token checks (RS256 signature, claims, replay insert).
 *
 * @example
 * const bench = await createBenchCase();
 * const { evidence, binding } = await bench.next();
 * await bench.attestor.verify(evidence, binding); // affirming
 * await bench.close();
 */
export async function createBenchCase(): Promise<BenchCase> {
  const dir = mkdtempSync(join(tmpdir(), 'mandate-k8s-bench-'));
  const cluster = await createClusterSigner('https://kubernetes.default.svc.cluster.local');
  const jwksFile = join(dir, 'jwks.json');
  writeFileSync(jwksFile, JSON.stringify(cluster.jwks));
  const config = configSchema.parse({ issuer: cluster.issuer, jwksFile, namespaces: ['agents'] });
  const attestor = create(config, { replay: createMemoryReplayCache(), clock: { now: () => Date.now() } });
  return {
    attestor,
    async next() {
      const binding = freshBinding();
      return { evidence: await cluster.sign({ audience: binding.expectedAudience }), binding };
    },
    async close() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function freshBinding(): EvidenceBinding {
  const nonce = randomBytes(40).toString('base64url');
  const jkt = randomBytes(32).toString('base64url');
  return { nonce, jkt, agentId: 'agt_AAAAAAAAAAAAAAAAAAAAAA', now: Date.now(), expectedAudience: evidenceAudience(nonce, jkt) };
}
