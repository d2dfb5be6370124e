import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Attestor, EvidenceBinding } from '../../ports/attestor.ts';
import { evidenceAudience } from '../../services/challenge.ts';
import { configSchema, create } from './index.ts';
import { GITHUB_ISSUER, startLocalSigstore, WORKFLOW } from './local-sigstore.ts';
import { createMemoryReplayCache } from '../memory-replay-cache.ts';

export interface BenchCase {
  attestor: Attestor;
  /** Distinct valid evidence, bound to a fresh binding on every call. */
  next(): Promise<{ evidence: unknown; binding: EvidenceBinding }>;
  close(): Promise<void>;
}

/**
 * A local Sigstore (CA and timestamp authority with keys generated now, trusted root in a
 * temporary file) and an attestor trusting it, so a benchmark measures bundle verifications with
 * the trusted root parsed once. Each `next()` signs SLSA provenance of a new random artifact with
 * one certified key (as one CI job signs several artifacts) and a fresh RFC 3161 timestamp. The
 * CA's and TSA's clocks are fixed at start, so runs longer than a certificate's 10 minutes work.
 * A bundle is not bound to the challenge: the binding is fresh only for the caller's bookkeeping.
 *
 * @example
 * const bench = await createBenchCase();
 * const { evidence, binding } = await bench.next();
 * await bench.attestor.verify(evidence, binding);
 * await bench.close();
 */
export async function createBenchCase(): Promise<BenchCase> {
  const sigstore = await startLocalSigstore(new Date());
  const dir = mkdtempSync(join(tmpdir(), 'mandate-sigstore-bench-'));
  const trustedRootFile = join(dir, 'trusted_root.json');
  writeFileSync(trustedRootFile, JSON.stringify(sigstore.trustedRoot));
  // Offline: no transparency log, and the local CA issues no SCT.
  const config = configSchema.parse({ trustedRootFile, identities: [{ san: WORKFLOW, issuer: GITHUB_ISSUER }], tlogThreshold: 0, ctlogThreshold: 0 });
  const attestor = create(config, { replay: createMemoryReplayCache(), clock: { now: () => Date.now() } });
  const signer = await sigstore.issueSigner();
  return {
    attestor,
    async next() {
      const nonce = randomBytes(40).toString('base64url');
      const jkt = randomBytes(32).toString('base64url');
      const binding = { nonce, jkt, agentId: 'agt_AAAAAAAAAAAAAAAAAAAAAA', now: Date.now(), expectedAudience: evidenceAudience(nonce, jkt) };
      const artifactDigest = `sha256:${randomBytes(32).toString('hex')}`;
      return { evidence: { bundle: await sigstore.signProvenance(artifactDigest, { signer }), artifactDigest }, binding };
    },
    async close() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

