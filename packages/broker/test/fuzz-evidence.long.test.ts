import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { evidenceTargets } from './support/fuzz-evidence-targets.ts';
import { assertBothOutcomes, longSeed, runTargets, type FuzzTarget } from './support/fuzz-harness.ts';

// `npm run test:long`: the evidence fuzzing of fuzz-evidence.test.ts at 20,000 inputs with a new
// seed each run (printed on every target line; FUZZ_SEED=<seed> replays it).
let targets: FuzzTarget[];
let close: () => Promise<void>;
before(async () => {
  ({ targets, close } = await evidenceTargets());
});
after(() => close());

test('20,000 mutated evidence items at every attestor and TPM structure reader (new seed): only typed rejections, no hang', async () => {
  const seed = longSeed();
  console.log(`fuzz-evidence.long seed ${seed}`);
  const tallies = await runTargets(targets, 20_000, seed);
  assert.ok(tallies.reduce((sum, t) => sum + t.tried, 0) >= 20_000);
  for (const tally of tallies) assertBothOutcomes(tally);
});
