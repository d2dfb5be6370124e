import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { assertBothOutcomes, runTargets, type FuzzTarget } from '../../broker/test/support/fuzz-harness.ts';
import { sdkTargets } from './support/fuzz-sdk.ts';

// Seed-fixed share of the SDK fuzzing for `npm test` (fuzz-sdk.long.test.ts: new seed, larger).
let targets: FuzzTarget[];
before(async () => {
  targets = await sdkTargets();
});

test('1,500 mutated requests, SETs and status lists at the SDK verifier, SSF receiver and status-list decoder (fixed seed): only typed rejections, no hang', async () => {
  const tallies = await runTargets(targets, 1_500, 20261127);
  assert.ok(tallies.reduce((sum, t) => sum + t.tried, 0) >= 1_500);
  assertBothOutcomes(tallies[0]!);
  assertBothOutcomes(tallies[2]!);
});
