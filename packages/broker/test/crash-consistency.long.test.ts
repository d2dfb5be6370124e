import { after, before, test } from 'node:test';
import { assertCrashConsistent, crashSeed, describeReport } from './support/crash-expect.ts';
import { runCrashScenario } from './support/crash-scenario.ts';
import { adminQuery, startPostgres, type PostgresCluster } from './support/postgres.ts';

/**
 * Issue #11 item 3, the long run (`npm run test:long`): 20 SIGKILLs per store of a real
 * `mandate serve` under mint load, with the checks of crash-consistency.test.ts (every received
 * token audited, the chain verifies after each kill, no mandate past maxUses, clean restarts).
 * Another seed than the short run's, and a wider kill window. Replay with `MANDATE_CRASH_SEED`.
 */
const KILLS = 20;
const seed = crashSeed(0xc0ffee);

let cluster: PostgresCluster | undefined;
before(async () => {
  cluster = await startPostgres();
  await adminQuery(cluster, 'CREATE DATABASE mandate_crash_long');
});
after(async () => {
  await cluster?.stop();
});

test(`SQLite: ${KILLS} SIGKILLs under mint load; every received token audited, chain verifies, maxUses holds, restarts clean`, async () => {
  const report = await runCrashScenario({ store: 'sqlite', kills: KILLS, seed, maxDelayMs: 1500, mandateAgents: 4 });
  console.log(describeReport(report));
  assertCrashConsistent(report, KILLS);
});

test(`PostgreSQL: ${KILLS} SIGKILLs of the broker (never of postgres) under mint load; the same guarantees`, async () => {
  const report = await runCrashScenario({ store: 'postgres', storeUrl: cluster!.urlFor('mandate_crash_long'), kills: KILLS, seed, maxDelayMs: 1500, mandateAgents: 4 });
  console.log(describeReport(report));
  assertCrashConsistent(report, KILLS);
});
