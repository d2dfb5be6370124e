import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { fuzzStalls, SHORT_TIMEOUTS } from './support/fuzz-http-stalls.ts';
import { fuzzHttp, httpFuzzContext, type HttpFuzzContext } from './support/fuzz-http.ts';
import { startLoopFixture, type LoopFixture } from './support/loop-fixture.ts';

// Seed-fixed share of the socket fuzzing for `npm test` (fuzz-http-socket.long.test.ts: new seed, larger).
let fx: LoopFixture;
let ctx: HttpFuzzContext;
before(async () => {
  fx = await startLoopFixture({ config: SHORT_TIMEOUTS });
  ctx = await httpFuzzContext(fx);
});
after(() => fx.close());

test('600 mutated valid requests (token, attest, bc-authorize, introspect, revoke, admin) and random ones over a real socket (fixed seed): no 5xx, standard bodies, no hang, still minting after', async () => {
  const tally = await fuzzHttp(ctx, { numRuns: 600, seed: 20261126 });
  assert.equal(tally.tried, 600);
  // Some mutations leave a request valid (accepted), most break it (rejected): both are reached.
  assert.ok(tally.accepted >= 20 && tally.rejected >= 300, JSON.stringify(tally));
});

test('20 valid requests cut at a random byte and left hanging (fixed seed): each cut off with 408 or closed by the server deadlines, still minting after', async () => {
  const tally = await fuzzStalls(ctx, 20, 20261128);
  assert.equal(tally.stalled, 20);
  assert.ok(tally.slowestMs < 5_000, JSON.stringify(tally));
});
