import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DOCUMENTED_DIFFERENCES, runDifferential, type Difference } from '../../test/support/jws-fuzz.ts';

// `npm run test:long`: the differential fuzz of differential.test.ts at 100,000 inputs, in four
// seeded runs so that a failure names a short reproducible run.
const SEEDS = [0x4a575331, 0x4a575332, 0x4a575333, 0x4a575334];

for (const seed of SEEDS) {
  test(`25,000 seeded tokens (seed ${seed}): never accepts what jose rejects; every extra rejection is documented`, async (t) => {
    const tally = await runDifferential({ numRuns: 25_000, seed });
    t.diagnostic(JSON.stringify(tally));
    assert.equal(tally.runs, 25_000);
    assert.ok(tally.bothAccept >= 2_500 && tally.bothReject >= 2_500, JSON.stringify(tally));
    for (const difference of Object.keys(DOCUMENTED_DIFFERENCES) as Difference[])
      assert.ok(tally.byDifference[difference] > 0, `the difference ${difference} was never exercised`);
  });
}
