import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { assertBothOutcomes, longSeed, runTargets, type FuzzTarget } from '../../broker/test/support/fuzz-harness.ts';
import { sdkTargets } from './support/fuzz-sdk.ts';

// `npm run test:long`: the SDK fuzzing of fuzz-sdk.test.ts at 20,000 inputs with a new seed each
// run (printed on every target line; FUZZ_SEED=<seed> replays it).
let targets: FuzzTarget[];
before(async () => {
  targets = await sdkTargets();
});

test('20,000 mutated requests, SETs and status lists at the SDK (new seed): only typed rejections, no hang', async () => {
  const seed = longSeed();
  console.log(`fuzz-sdk.long seed ${seed}`);
  const tallies = await runTargets(targets, 20_000, seed);
  assert.ok(tallies.reduce((sum, t) => sum + t.tried, 0) >= 20_000);
  assertBothOutcomes(tallies[0]!);
  assertBothOutcomes(tallies[2]!);
});
