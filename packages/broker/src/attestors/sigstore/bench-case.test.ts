import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createBenchCase } from './bench-case.ts';

test('the bench case yields distinct evidence that verifies, twice', async () => {
  const bench = await createBenchCase();
  try {
    const first = await bench.next();
    const second = await bench.next();
    assert.notDeepEqual(first.evidence, second.evidence);
    const results = [await bench.attestor.verify(first.evidence, first.binding), await bench.attestor.verify(second.evidence, second.binding)];
    assert.deepEqual(results.map((r) => r.status), ['affirming', 'affirming']);
    assert.notEqual(results[0]!.claims.digest, results[1]!.claims.digest);
  } finally {
    await bench.close();
  }
});
