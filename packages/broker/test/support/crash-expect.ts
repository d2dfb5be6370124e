/** The assertions and the figures line shared by the short and the long crash-consistency runs. */
import assert from 'node:assert/strict';
import type { CrashReport } from './crash-scenario.ts';

/** The seed of a run: `MANDATE_CRASH_SEED` replays a failing one. */
export function crashSeed(fallback: number): number {
  const given = process.env.MANDATE_CRASH_SEED;
  if (given === undefined) return fallback;
  const seed = Number(given);
  if (!Number.isSafeInteger(seed)) throw new Error(`MANDATE_CRASH_SEED must be an integer, got ${given}`);
  return seed;
}

export function assertCrashConsistent(report: CrashReport, kills: number): void {
  const seed = `seed ${report.seed} (${report.store})`;
  assert.deepEqual(report.unexpected, [], `errors not caused by a kill, ${seed}`);
  assert.equal(report.kills.length, kills, seed);
  for (const kill of report.kills) {
    // 4. the broker served mints in the round the kill ended, and restarted (readyz 200) after it.
    assert.ok(kill.receivedBeforeKill > 0, `round ${kill.round}: no token before the kill, ${seed}`);
    assert.ok(kill.tokenInFlight > 0, `round ${kill.round}: no /token request open at the kill, ${seed}`);
    // 2. the hash chain verifies on the dead broker's data, before the restart touches it.
    assert.equal(kill.verifyExit, 0, `round ${kill.round}: audit verify failed, ${seed}:\n${kill.verifyOutput}`);
    assert.ok(kill.restartMs > 0);
  }
  assert.ok(report.finalRoundReceived > 0, `no mint after the last restart, ${seed}`);
  assert.equal(report.finalStopCode, 0, `graceful stop after the last round, ${seed}`);
  assert.equal(report.finalVerifyExit, 0, `audit verify after the final stop, ${seed}`);
  // 1. every token any client received has a committed audit row; so does every stored credential.
  assert.ok(report.check.rowsChecked > 0);
  assert.equal(report.check.rowsChecked, report.received.ciba + report.received.exchange + report.received.autonomous);
  assert.deepEqual(report.check.lost, [], `received tokens without a token.issued row, ${seed}`);
  assert.deepEqual(report.check.unauditedCredentials, [], `credentials without a token.issued row, ${seed}`);
  // 3. no mandate past maxUses, counting credentials, token.issued rows and received tokens.
  assert.ok(report.check.mandates.length > 0);
  assert.deepEqual(report.check.overdrawn, [], `mandates past maxUses, ${seed}`);
  assert.ok(report.check.issuedNotReceived >= 0, `more tokens received than issued, ${seed}`);
  // Every kind of mint ran: the guarantees were tested on each path.
  for (const kind of ['ciba', 'exchange', 'autonomous'] as const) assert.ok(report.received[kind] > 0, `no ${kind} token received, ${seed}`);
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;

/** One `#` line of figures for the test output (and /tmp/coord/figures-crash.md). */
export function describeReport(r: CrashReport): string {
  const restart = r.kills.map((k) => k.restartMs);
  const ready = r.kills.map((k) => k.readyAfterListenMs);
  const exhausted = r.check.mandates.filter((m) => m.credentials === m.maxUses).length;
  return [
    `# crash ${r.store} seed=${r.seed}: ${r.kills.length} kills`,
    `received ${r.check.rowsChecked} (ciba ${r.received.ciba}, exchange ${r.received.exchange}, autonomous ${r.received.autonomous})`,
    `rows checked ${r.check.rowsChecked}, lost ${r.check.lost.length}, unaudited credentials ${r.check.unauditedCredentials.length}`,
    `mandates ${r.check.mandates.length} (maxUses ${r.maxUses}, ${exhausted} spent to the limit, overdrawn ${r.check.overdrawn.length})`,
    `issued-not-received ${r.check.issuedNotReceived}, uses burnt by kills ${r.check.burntUses}`,
    `in flight at kills: /token ${r.traffic.tokenInFlightAtKill}, all ${r.traffic.inFlightAtKill}; cut ${r.traffic.cut} (/token ${r.traffic.tokenCut}); 429s ${r.traffic.rateLimited}`,
    `restart (spawn → readyz 200) ms min ${Math.min(...restart)} median ${median(restart)} max ${Math.max(...restart)}`,
    `listening → readyz 200 ms max ${Math.max(...ready)}`,
    ...(r.store === 'postgres' ? [`chain lock attempts after each kill ${r.kills.map((k) => k.chainLockAttempts).join(',')}`] : []),
    `verify exit codes ${[...r.kills.map((k) => k.verifyExit), r.finalVerifyExit].join('')}`,
  ].join('; ');
}
