import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DOCUMENTED_DIFFERENCES, runDifferential, type Difference } from '../../test/support/jws-fuzz.ts';

// Differential fuzz against jose compactVerify (generators and the enumerated differences live in
// test/support/jws-fuzz.ts): same key, same allow-list, the same decision unless documented.
test('2,000 seeded tokens: never accepts what jose rejects; every extra rejection is a documented difference', async (t) => {
  const tally = await runDifferential({ numRuns: 2_000, seed: 0x6d616e64 });
  t.diagnostic(JSON.stringify(tally));
  assert.equal(tally.runs, 2_000);
  // The inputs reach both outcomes often enough for the comparison to mean something.
  assert.ok(tally.bothAccept >= 200, `only ${tally.bothAccept} tokens accepted by both`);
  assert.ok(tally.bothReject >= 200, `only ${tally.bothReject} tokens rejected by both`);
  for (const difference of Object.keys(DOCUMENTED_DIFFERENCES) as Difference[])
    assert.ok(tally.byDifference[difference] > 0, `the difference ${difference} was never exercised`);
});
