import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createMemoryReplayCache } from '../attestors/memory-replay-cache.ts';
import { MandateError } from '../core/errors.ts';
import type { ReplayCache, ReplayClaim } from '../ports/replay-cache.ts';
import { createHeldIds } from './single-use.ts';

const NOW = 1_700_000_000_000;
const claim = (id: string, expiresAt = NOW + 60_000): ReplayClaim => ({ namespace: 'dpop', id, expiresAt, code: 'ERR_DPOP_REPLAY', message: 'jti was already used' });
const codeOf = (error: unknown) => (error instanceof MandateError ? error.code : String(error));

describe('held single-use ids (proof/single-use.ts)', () => {
  test('recordNow records every pending id once; a second holder of one of them gets its replay error', async () => {
    const replay = createMemoryReplayCache();
    const first = createHeldIds(replay);
    first.add(claim('a'));
    first.add(claim('b'));
    await first.recordNow(NOW);
    assert.deepEqual(first.pending(), []);
    const second = createHeldIds(replay);
    second.add(claim('c'));
    second.add(claim('b'));
    await assert.rejects(second.recordNow(NOW), (e) => codeOf(e) === 'ERR_DPOP_REPLAY');
    assert.equal(await replay.seen('dpop', 'c', NOW), true, 'the fresh id beside the replayed one is recorded');
  });

  test('an id whose expiry has come is refused as a replay, never recorded (its first use may have been purged)', async () => {
    const replay = createMemoryReplayCache();
    const held = createHeldIds(replay);
    held.add(claim('late', NOW));
    await assert.rejects(held.recordNow(NOW), (e) => codeOf(e) === 'ERR_DPOP_REPLAY');
    assert.equal(await replay.seen('dpop', 'late', NOW - 1), false);
  });

  test('recorded() empties the holder: a commit that recorded the ids is not followed by a second recording', async () => {
    const replay = createMemoryReplayCache();
    const held = createHeldIds(replay);
    held.add(claim('x'));
    held.recorded();
    await held.recordNow(NOW);
    assert.equal(await replay.seen('dpop', 'x', NOW), false);
  });

  test('recordRefused: a replay among the ids is returned (the answer); a store failure leaves the refusal as it was', async () => {
    const replay = createMemoryReplayCache();
    await replay.checkAndInsert('dpop', 'used', NOW + 60_000, NOW);
    const refused = createHeldIds(replay);
    refused.add(claim('used'));
    assert.equal((await refused.recordRefused(NOW))?.code, 'ERR_DPOP_REPLAY');
    const failing: ReplayCache = { ...replay, checkAndInsert: async () => { throw new Error('disk gone'); } };
    const held = createHeldIds(failing);
    held.add(claim('y'));
    assert.equal(await held.recordRefused(NOW), null);
  });
});
