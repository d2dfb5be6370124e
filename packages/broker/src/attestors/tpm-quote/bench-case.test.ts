import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createBenchCase } from './bench-case.ts';

test('the bench case yields distinct evidence that verifies, twice in a row', async () => {
  const bench = await createBenchCase();
  try {
    const first = await bench.next();
    const second = await bench.next();
    assert.notDeepEqual(first.evidence, second.evidence);
    for (const { evidence, binding } of [first, second]) {
      const result = await bench.attestor.verify(evidence, binding);
      assert.equal(result.status, 'affirming');
      assert.match(String(result.claims.digest), /^sha256:[0-9a-f]{64}$/);
    }
  } finally {
    await bench.close();
  }
});
