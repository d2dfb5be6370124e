import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createBenchCase } from './bench-case.ts';

test('the bench case hands out distinct evidence, each verified once with cached keys', async () => {
  const bench = await createBenchCase();
  try {
    const first = await bench.next();
    const second = await bench.next();
    assert.notEqual(first.evidence, second.evidence);
    assert.notEqual(first.binding.nonce, second.binding.nonce);
    for (const { evidence, binding } of [first, second]) {
      const result = await bench.attestor.verify(evidence, binding);
      assert.equal(result.status, 'affirming');
      assert.equal(result.claims.namespace, 'agents');
    }
  } finally {
    await bench.close();
  }
});
