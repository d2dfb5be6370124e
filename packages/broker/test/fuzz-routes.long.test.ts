import { after, before, test } from 'node:test';
import { startTestApp, type TestApp } from './support/app-fixture.ts';
import { longSeed } from './support/fuzz-harness.ts';
import { fuzzRoutes } from './support/fuzz-routes.ts';

let t: TestApp;
before(async () => {
  t = await startTestApp();
});
after(() => t.close());

// `npm run test:long`: a new seed each run, printed (FUZZ_SEED=<seed> replays it).
test('100,000 generated requests at every route: never a 5xx, always a standard body', async () => {
  const seed = longSeed();
  console.log(`fuzz-routes.long seed ${seed}`);
  await fuzzRoutes(t, 100_000, seed);
});
