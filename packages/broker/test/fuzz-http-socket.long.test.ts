import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { longSeed } from './support/fuzz-harness.ts';
import { fuzzStalls, SHORT_TIMEOUTS } from './support/fuzz-http-stalls.ts';
import { fuzzHttp, httpFuzzContext, type HttpFuzzContext } from './support/fuzz-http.ts';
import { startLoopFixture, type LoopFixture } from './support/loop-fixture.ts';

// `npm run test:long`: the socket fuzzing of fuzz-http-socket.test.ts at 10,000 requests with a
// new seed each run (printed; FUZZ_SEED=<seed> replays it).
let fx: LoopFixture;
let ctx: HttpFuzzContext;
before(async () => {
  fx = await startLoopFixture({ config: SHORT_TIMEOUTS });
  ctx = await httpFuzzContext(fx);
});
after(() => fx.close());

test('10,000 mutated valid and random requests over a real socket (new seed): no 5xx, standard bodies, no hang, still minting after', async () => {
  const seed = longSeed();
  console.log(`fuzz-http-socket.long seed ${seed}`);
  const tally = await fuzzHttp(ctx, { numRuns: 10_000, seed });
  assert.equal(tally.tried, 10_000);
  assert.ok(tally.accepted >= 300 && tally.rejected >= 5_000, JSON.stringify(tally));
});

test('200 valid requests cut at a random byte and left hanging, 50 at a time (new seed): each cut off with 408 or closed, still minting after', async () => {
  const seed = longSeed();
  let stalled = 0;
  for (let batch = 0; batch < 4; batch++) stalled += (await fuzzStalls(ctx, 50, seed + batch)).stalled;
  assert.equal(stalled, 200);
});
