/**
 * Soak (issue #11 item 5, `npm run test:long` only): sustained attested DPoP mint load against the
 * real `mandate serve` (a child process on loopback) for MANDATE_SOAK_SECONDS (default 600), from
 * several agents at once, re-attesting within their policy's freshness. Every 10 s it samples the
 * server's heap and RSS (its /metrics), p50/p99 latency, throughput and the DPoP replay cache rows.
 * It asserts: 0 non-2xx; the live heap at the end (after full GCs, from the server's --trace-gc)
 * within 10% of the heap after warm-up; the replay cache bounded and still refusing replays; every
 * token received has its audit record; the audit chain verifies.
 * The time series goes to a JSON file in the OS temp directory (its path is printed).
 *
 *   MANDATE_SOAK_SECONDS=120 node scripts/run-tests.mjs packages/broker/test/soak.long.test.ts
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { AUDIENCE, exchangeRequest, send, tokenChecker } from '../../../bench/mandate-server.ts';
import { prepareSoakAgent, runSoakLoad, SoakRecorder, type SentProof } from './support/soak-load.ts';
import { formatSample, heapVerdict, latencyFigures, replayBound, sampleUntil, writeTimeSeries, type SoakSample } from './support/soak-report.ts';
import { openStoreReader, startSoakServer, stopSoakServer, verifyAuditOffline, type SoakServer } from './support/soak-server.ts';

const positive = (name: string, fallback: number) => {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number`);
  return value;
};
const SECONDS = positive('MANDATE_SOAK_SECONDS', 600);
const RATE = positive('MANDATE_SOAK_RATE', 100);
// The product's default rate limits stay on (10 requests/s per client, docs/limits.md): the load is
// spread so that each agent, one request in flight, stays under them (100/s over 16 agents).
const AGENTS = positive('MANDATE_SOAK_AGENTS', 16);
const WORKERS_PER_AGENT = 1;
const PERIOD_S = 10;
// Warm-up covers most of a replay cache cycle when the run is long enough: a proof's jti lives
// iatWindow + 1 s, then the purge grace, then up to one purge interval (181 s with the defaults).
const WARMUP_S = Math.min(150, SECONDS / 4);
const IAT_WINDOW_S = 60;
// An entry is purged at the first purge (every REPLAY_PURGE_INTERVAL_MS in src/app.ts) once it has
// been expired for REPLAY_PURGE_GRACE_MS: it lives up to both after its expiry.
const PURGE_S = 60 + 60;
const REATTEST_MS = 60_000;
const HEAP_TOLERANCE = 0.1;

const config = {
  audiences: { [AUDIENCE]: { actions: ['read', 'write'] } },
  dpop: { iatWindow: `${IAT_WINDOW_S}s` },
  attestation: { attestors: { 'code-digest': {} }, policies: { bench: { freshness: '3m', anyOf: [{ allOf: [{ attestor: 'code-digest', minStatus: 'warning' }] }] } } },
};

const dir = mkdtempSync(join(tmpdir(), 'mandate-soak-'));
let server: SoakServer | undefined;
after(async () => {
  if (server) await stopSoakServer(server);
  rmSync(dir, { recursive: true, force: true });
});

/** Replays an accepted proof with a fresh client assertion: RFC 9449 §11.1, the `jti` is single-use. */
async function replay(base: string, kept: SentProof) {
  const response = await send(exchangeRequest(base, kept.agent, kept.proof));
  return { ageSeconds: (Date.now() - kept.at) / 1000, status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/** Prepares the agents and runs the load until the deadline, sampling every period. */
async function soak(running: SoakServer, onSample: (sample: SoakSample) => void) {
  const { base, dataDir } = running;
  const agents = await Promise.all(Array.from({ length: AGENTS }, (_, i) => prepareSoakAgent(base, dataDir, `soak-agent-${i}`)));
  const reader = openStoreReader(dataDir);
  const recorder = new SoakRecorder();
  const start = Date.now();
  const deadline = start + SECONDS * 1000;
  const load = runSoakLoad({ base, agents, workersPerAgent: WORKERS_PER_AGENT, ratePerSecond: RATE, reattestEveryMs: REATTEST_MS, deadline }, recorder);
  const samples = await sampleUntil(start, deadline, PERIOD_S * 1000, running, reader, recorder, onSample);
  await load;
  const tail = recorder.cut(); // requests that ended after the last sample
  return { agents, reader, recorder, start, samples, tail };
}

/**
 * After the load: one more token verified with jose against the JWKS; the newest accepted proof
 * and one near the end of the iat window (it lived through at least one purge) replayed; the
 * server stopped; every received token looked up in the audit log; `mandate audit verify` run.
 */
async function afterLoad(running: SoakServer, run: Awaited<ReturnType<typeof soak>>) {
  const sample = await send(exchangeRequest(running.base, run.agents[0]!));
  assert.equal(sample.status, 200);
  await tokenChecker(running.base, run.agents[0]!, AUDIENCE, false)(await sample.text());
  const kept = run.recorder.kept;
  const newest = kept.at(-1)!;
  const oldest = kept.find((k) => Date.now() - k.at <= (IAT_WINDOW_S - 15) * 1000) ?? newest;
  const replays = [await replay(running.base, newest), await replay(running.base, oldest)];
  const finalRows = { dpop: run.reader.dpopReplayRows(), all: run.reader.replayRows() };
  const exitCode = await stopSoakServer(running);
  const issued = run.reader.issuedJtis();
  run.reader.close();
  const lost = run.recorder.issued.filter((jti) => !issued.has(jti)).length;
  return { replays, finalRows, exitCode, lost, audit: verifyAuditOffline(running) };
}

// The checks can fail: a leaking heap and an unpurged replay cache, as synthetic series.
test('the soak checks fail on a live heap growing from 40 to 46 MiB and on a replay cache that is never purged', () => {
  const gc = (t: number, mib: number, isolate = '0xmain') => ({ at: t * 1000, isolate, heapAfterBytes: mib * 2 ** 20 });
  const growing = Array.from({ length: 30 }, (_, i) => gc(20 + i * 10, 40 + (i * 6) / 29));
  const worker = Array.from({ length: 5 }, (_, i) => gc(25 + i * 10, 400, '0xworker'));
  const verdict = heapVerdict([], [...growing, ...worker], 0, 10);
  assert.equal(verdict.basis, 'post-gc');
  assert.ok(verdict.growth > HEAP_TOLERANCE, `a 40 → 46 MiB series grew only ${verdict.growth}`);
  const sample = (t: number, rows: number) => ({ t, requests: 1000, dpopReplayRows: rows }) as SoakSample;
  const unpurged = Array.from({ length: 30 }, (_, i) => sample((i + 1) * 10, (i + 1) * 1000));
  const bound = replayBound(unpurged, IAT_WINDOW_S, PURGE_S, PERIOD_S);
  assert.equal(bound, 100 * (IAT_WINDOW_S + 1 + PURGE_S + PERIOD_S));
  assert.ok(unpurged.some((x) => x.dpopReplayRows > bound));
});

test(`soak: ${SECONDS} s of attested DPoP mints at ${RATE}/s from ${AGENTS} agents`, { timeout: (SECONDS + 600) * 1000 }, async (t) => {
  server = await startSoakServer(dir, config);
  const run = await soak(server, (s) => t.diagnostic(formatSample(s)));
  const { replays, finalRows, exitCode, lost, audit } = await afterLoad(server, run);
  const { samples, recorder } = run;
  const heap = heapVerdict(samples, server.majorGcs, run.start, WARMUP_S);
  const bound = replayBound(samples, IAT_WINDOW_S, PURGE_S, PERIOD_S);
  const totals = recorder.totals;
  const summary = {
    seconds: SECONDS, targetRate: RATE, agents: AGENTS, inFlightMax: AGENTS * WORKERS_PER_AGENT, warmupSeconds: WARMUP_S,
    machine: { cpus: cpus().length, loadavgAtEnd: loadavg() }, majorGcs: server.majorGcs.length, totals, tailWindow: run.tail, lost, heap,
    replayCache: { bound, maxDpopRows: Math.max(...samples.map((s) => s.dpopReplayRows)), finalRows, replays },
    latency: latencyFigures(samples), rss: { afterWarmup: samples.find((s) => s.t > WARMUP_S)?.rssBytes, end: samples.at(-1)!.rssBytes },
    serverExit: exitCode, auditVerify: audit.output.trim().split('\n').at(-1), failures: recorder.failures,
  };
  const file = writeTimeSeries(summary, samples, server.majorGcs, run.start);
  t.diagnostic(`soak summary: ${JSON.stringify({ ...summary, failures: summary.failures.length })}`);
  t.diagnostic(`time series: ${file}`);

  assert.equal(totals.nonOk + totals.attestFailures, 0, `non-2xx responses: ${JSON.stringify(recorder.failures.slice(0, 3))}`);
  // Sustained means sustained: a server that stalled would fall far below the target rate.
  assert.ok(totals.ok >= RATE * SECONDS * 0.25, `throughput far below target: ${totals.ok} mints in ${SECONDS} s`);
  assert.ok(totals.attests >= AGENTS, `${totals.attests} re-attestations for ${AGENTS} agents`);
  assert.equal(lost, 0, `${lost} of ${recorder.issued.length} tokens received have no token.issued audit record`);
  assert.ok(heap.growth <= HEAP_TOLERANCE, `heap grew ${(heap.growth * 100).toFixed(1)}% (${heap.basis}, medians of ${heap.n})`);
  for (const s of samples) assert.ok(s.dpopReplayRows <= bound, `replay cache at t=${s.t}s: ${s.dpopReplayRows} rows > bound ${bound}`);
  for (const r of replays) {
    assert.equal(r.status, 400, `replay of a ${r.ageSeconds.toFixed(0)} s old proof: ${JSON.stringify(r.body)}`);
    assert.equal(r.body.error, 'invalid_dpop_proof');
    assert.equal(r.body.error_description, 'jti was already used');
  }
  assert.equal(exitCode, 0, server.output());
  assert.equal(audit.exitCode, 0, audit.output);
  assert.match(audit.output, /audit ok/);
});
