import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createBenchCase } from './bench-case.ts';

test('the bench case yields distinct evidence that verifies, bound to a fresh binding each time', async () => {
  const bench = await createBenchCase();
  try {
    const first = await bench.next();
    const second = await bench.next();
    assert.notEqual(first.evidence, second.evidence);
    assert.notEqual(first.binding.nonce, second.binding.nonce);
    for (const { evidence, binding } of [first, second]) assert.equal((await bench.attestor.verify(evidence, binding)).status, 'affirming');
  } finally {
    await bench.close();
  }
});
