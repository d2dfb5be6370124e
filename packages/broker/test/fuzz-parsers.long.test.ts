import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { assertBothOutcomes, longSeed, runTargets } from './support/fuzz-harness.ts';
import { parserTargets } from './support/fuzz-parser-targets.ts';

// `npm run test:long`: the parser fuzzing of fuzz-parsers.test.ts at 50,000 inputs with a new
// seed each run (printed on every target line; FUZZ_SEED=<seed> replays it).
const { targets, close } = parserTargets();
after(close);

test('50,000 generated and mutated inputs at every parser (new seed): only typed rejections, no hang', async () => {
  const seed = longSeed();
  console.log(`fuzz-parsers.long seed ${seed}`);
  const tallies = await runTargets(targets, 50_000, seed);
  assert.ok(tallies.reduce((sum, t) => sum + t.tried, 0) >= 50_000);
  for (const tally of tallies) assertBothOutcomes(tally);
});
