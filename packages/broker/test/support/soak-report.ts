/**
 * The soak's time series and the figures its assertions read: one sample every period (server
 * heap and RSS from its /metrics, latency and throughput of the window just ended, DPoP replay
 * cache rows from its SQLite file), the heap comparison and the replay cache bound.
 */
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SoakRecorder, WindowFigures } from './soak-load.ts';
import { median } from './soak-load.ts';
import { mainIsolateGcs, scrapeServer, serverCpuSeconds, type MajorGc, type ServerMetrics, type SoakServer, type StoreReader } from './soak-server.ts';

export interface SoakSample extends ServerMetrics, WindowFigures {
  /** Seconds since the load started (end of the window). */
  t: number;
  mintsPerSecond: number;
  dpopReplayRows: number;
  replayRows: number;
  serverCpuSeconds: number | null;
  /** The live heap after the latest full GC so far (`--trace-gc`), null before the first. */
  heapAfterGcBytes: number | null;
  majorGcsSoFar: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));

/** Samples every `periodMs` from `start` until `deadline` (the last window ends at the deadline). */
export async function sampleUntil(
  start: number, deadline: number, periodMs: number, server: SoakServer, reader: StoreReader, recorder: SoakRecorder, onSample: (s: SoakSample) => void,
): Promise<SoakSample[]> {
  const samples: SoakSample[] = [];
  let windowStart = start;
  for (let k = 1; windowStart < deadline; k++) {
    const end = Math.min(start + k * periodMs, deadline);
    await sleep(end - Date.now());
    const window = recorder.cut();
    const seconds = (Date.now() - windowStart) / 1000;
    windowStart = Date.now();
    const metrics = await scrapeServer(server.base);
    const sample: SoakSample = {
      t: Math.round((Date.now() - start) / 100) / 10, ...metrics, ...window, mintsPerSecond: window.ok / seconds,
      dpopReplayRows: reader.dpopReplayRows(), replayRows: reader.replayRows(), serverCpuSeconds: serverCpuSeconds(server.child.pid!),
      heapAfterGcBytes: mainIsolateGcs(server.majorGcs).at(-1)?.heapAfterBytes ?? null, majorGcsSoFar: server.majorGcs.length,
    };
    samples.push(sample);
    onSample(sample);
  }
  return samples;
}

export interface HeapVerdict {
  /** `post-gc`: heap after full GCs (the live heap); `scraped`: /metrics heap used, when too few full GCs ran. */
  basis: 'post-gc' | 'scraped';
  /** Readings per side of the comparison. */
  n: number;
  afterWarmupBytes: number;
  endBytes: number;
  /** (end − after warm-up) / after warm-up. */
  growth: number;
}

function compareEnds(basis: HeapVerdict['basis'], readings: number[]): HeapVerdict {
  const n = Math.max(3, Math.floor(readings.length / 6));
  const afterWarmupBytes = median(readings.slice(0, n));
  const endBytes = median(readings.slice(-n));
  return { basis, n, afterWarmupBytes, endBytes, growth: (endBytes - afterWarmupBytes) / afterWarmupBytes };
}

/**
 * The heap after warm-up against the heap at the end, each the median of several readings (a
 * single one says little). Preferred: the heap left after each full GC, which is what a forced GC
 * would show; without six full GCs after warm-up, the used heap of the /metrics samples, a
 * saw-tooth, so the comparison is noisier.
 */
export function heapVerdict(samples: SoakSample[], majorGcs: MajorGc[], start: number, warmupSeconds: number): HeapVerdict {
  const gcs = mainIsolateGcs(majorGcs).filter((gc) => gc.at - start > warmupSeconds * 1000).map((gc) => gc.heapAfterBytes);
  if (gcs.length >= 6) return compareEnds('post-gc', gcs);
  const steady = samples.filter((s) => s.t > warmupSeconds).map((s) => s.heapUsedBytes);
  if (steady.length < 6) throw new Error(`too few samples after warm-up (${steady.length}) to compare the heap`);
  return compareEnds('scraped', steady);
}

/**
 * A DPoP proof's `jti` is kept until `iat + iatWindow + 1 s` (src/proof/dpop.ts) and expired rows
 * are purged every `purgeSeconds` (src/app.ts), so at most the proofs of the last
 * `iatWindow + 1 + purge` seconds are present; one sampling period of slack covers rate swings.
 */
export function replayBound(samples: SoakSample[], iatWindowSeconds: number, purgeSeconds: number, periodSeconds: number): number {
  const peakRate = Math.max(...samples.map((s) => s.requests / periodSeconds));
  return Math.ceil(peakRate * (iatWindowSeconds + 1 + purgeSeconds + periodSeconds));
}

/** Across the windows: the median p50 and p99, the worst p99 and the slowest request. */
export function latencyFigures(samples: SoakSample[]) {
  return {
    medianOfP50Ms: median(samples.map((s) => s.p50Ms)), medianOfP99Ms: median(samples.map((s) => s.p99Ms)),
    worstP99Ms: Math.max(...samples.map((s) => s.p99Ms)), maxMs: Math.max(...samples.map((s) => s.maxMs)),
  };
}

/** The summary, the samples and every full GC, as JSON in the OS temp directory; returns the path. */
export function writeTimeSeries(summary: object, samples: SoakSample[], majorGcs: MajorGc[], start: number): string {
  const file = join(tmpdir(), `mandate-soak-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  const gcs = majorGcs.map((gc) => ({ t: (gc.at - start) / 1000, isolate: gc.isolate, heapAfterBytes: gc.heapAfterBytes }));
  writeFileSync(file, JSON.stringify({ summary, samples, majorGcs: gcs }, null, 2));
  return file;
}

const mb = (bytes: number) => (bytes / 2 ** 20).toFixed(1);

export function formatSample(s: SoakSample): string {
  return `t=${s.t}s mints/s=${s.mintsPerSecond.toFixed(1)} p50=${s.p50Ms.toFixed(1)}ms p99=${s.p99Ms.toFixed(1)}ms heap=${mb(s.heapUsedBytes)}MiB after-gc=${s.heapAfterGcBytes === null ? '-' : mb(s.heapAfterGcBytes)}MiB rss=${mb(s.rssBytes)}MiB dpop-replay-rows=${s.dpopReplayRows} non2xx=${s.nonOk}`;
}
