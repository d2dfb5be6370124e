/**
 * Micro-benchmark of each attestor's verifier (issue: multi-attestation): verifications per
 * CPU-second, with distinct evidence per verification (evidence is single-use) and trust roots
 * loaded once, as in the broker. Each attestor's `bench-case.ts` sets up its local trust root and
 * makes fresh evidence bound to a fresh challenge; making it is not timed: a pool is made first,
 * then verified in one timed pass. One warm-up pass, then `runs` passes; medians and spread.
 */
import type { Attestor, EvidenceBinding } from '../packages/broker/src/ports/attestor.ts';
import type { CaseResult, Plan, RunFigure } from './measure.ts';

interface BenchCase {
  attestor: Attestor;
  next(): Promise<{ evidence: unknown; binding: EvidenceBinding }>;
  close(): Promise<void>;
}

/** Pool sizes: a pass should take about a second at full size; Sigstore bundles verify slowest. */
const POOL: Record<string, { full: number; quick: number }> = {
  'k8s-sa-token': { full: 2000, quick: 100 },
  'spiffe-jwt-svid': { full: 2000, quick: 100 },
  sigstore: { full: 150, quick: 15 },
  'tpm-quote': { full: 600, quick: 50 },
};

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

async function pass(bench: BenchCase, size: number): Promise<RunFigure> {
  const pool = [];
  for (let i = 0; i < size; i++) pool.push(await bench.next());
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (const { evidence, binding } of pool) {
    const result = await bench.attestor.verify(evidence, binding);
    if (result.status === 'contraindicated') throw new Error(`${bench.attestor.id}: bench evidence was contraindicated`);
  }
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  return { ops: size, seconds, perSecond: size / seconds, cpuSeconds, perCpuSecond: size / Math.max(cpuSeconds, 1e-6) };
}

/** One CaseResult per attestor, `median` in verifications per CPU-second. */
export async function attestorCases(plan: Plan, quick: boolean): Promise<Record<string, CaseResult>> {
  const results: Record<string, CaseResult> = {};
  for (const [id, sizes] of Object.entries(POOL)) {
    const module = (await import(`../packages/broker/src/attestors/${id}/bench-case.ts`)) as { createBenchCase(): Promise<BenchCase> };
    const bench = await module.createBenchCase();
    const size = quick ? sizes.quick : sizes.full;
    try {
      await pass(bench, Math.max(1, Math.floor(size / 4)));
      const runs: RunFigure[] = [];
      for (let i = 0; i < plan.runs; i++) runs.push(await pass(bench, size));
      const rates = runs.map((r) => r.perCpuSecond);
      const med = median(rates);
      results[id] = {
        name: `${id} verify (distinct evidence, ${size} per pass)`, unit: 'verifications per CPU-second', runs, median: med, medianPerCpuSecond: med,
        spread: { min: Math.min(...rates), max: Math.max(...rates), relative: (Math.max(...rates) - Math.min(...rates)) / med },
      };
    } finally {
      await bench.close();
    }
  }
  return results;
}
