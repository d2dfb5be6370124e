import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Attestor, EvidenceBinding } from '../../ports/attestor.ts';
import { evidenceAudience } from '../../services/challenge.ts';
import { configSchema, create } from './index.ts';
import { createMemoryReplayCache } from '../memory-replay-cache.ts';
import { startLocalTrustDomain } from './local-trust-domain.ts';

export interface BenchCase {
  attestor: Attestor;
  /** Distinct valid evidence, bound to a fresh binding on every call. */
  next(): Promise<{ evidence: unknown; binding: EvidenceBinding }>;
  close(): Promise<void>;
}

/**
 * A local trust domain (keys generated now, bundle in a temporary file, replay cache in memory)
 * and an attestor trusting it, so a benchmark measures verifications with the bundle cached.
 *
 * @example
 * const bench = await createBenchCase();
 * const { evidence, binding } = await bench.next();
 * await bench.attestor.verify(evidence, binding);
 * await bench.close();
 */
export async function createBenchCase(): Promise<BenchCase> {
  const domain = await startLocalTrustDomain();
  const dir = mkdtempSync(join(tmpdir(), 'mandate-spiffe-bench-'));
  const bundleFile = join(dir, 'bundle.json');
  writeFileSync(bundleFile, JSON.stringify(domain.bundle()));
  const config = configSchema.parse({ trustDomains: [{ trustDomain: domain.trustDomain, bundleFile }] });
  const attestor = create(config, { replay: createMemoryReplayCache(), clock: { now: () => Date.now() } });
  return {
    attestor,
    async next() {
      const nonce = randomBytes(40).toString('base64url');
      const jkt = randomBytes(32).toString('base64url');
      const binding = { nonce, jkt, agentId: 'agt_AAAAAAAAAAAAAAAAAAAAAA', now: Date.now(), expectedAudience: evidenceAudience(nonce, jkt) };
      return { evidence: await domain.sign({ aud: [binding.expectedAudience] }), binding };
    },
    async close() {
      await domain.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
