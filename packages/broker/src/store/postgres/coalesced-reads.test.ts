import assert from 'node:assert/strict';
import { test } from 'node:test';
import { coalescedReads } from './coalesced-reads.ts';

/** A fake statement over a fixed table: records the keys of each call. */
function table(rows: Array<{ key: string; n: number }>) {
  const calls: string[][] = [];
  let fail: Error | null = null;
  const read = coalescedReads(async (keys) => {
    calls.push(keys);
    await new Promise((resolve) => setImmediate(resolve));
    if (fail) throw fail;
    return rows.filter((row) => keys.includes(row.key));
  }, (row) => row.key);
  return { read, calls, failWith: (error: Error | null) => (fail = error) };
}

test('the reads of one turn are one statement over their distinct keys; each caller gets the rows of its own key', async () => {
  const t = table([{ key: 'a', n: 1 }, { key: 'a', n: 2 }, { key: 'b', n: 3 }]);
  const [a, b, again, none] = await Promise.all([t.read('a'), t.read('b'), t.read('a'), t.read('zzz')]);
  assert.deepEqual(t.calls, [['a', 'b', 'zzz']]);
  assert.deepEqual([a, b, again, none], [[{ key: 'a', n: 1 }, { key: 'a', n: 2 }], [{ key: 'b', n: 3 }], [{ key: 'a', n: 1 }, { key: 'a', n: 2 }], []]);
});

test('a read asked after a statement started is not answered by it: it waits for a statement of its own', async () => {
  const t = table([{ key: 'a', n: 1 }]);
  const first = t.read('a');
  await new Promise((resolve) => setImmediate(resolve)); // the first statement is now running
  const second = t.read('a');
  await Promise.all([first, second]);
  assert.deepEqual(t.calls, [['a'], ['a']]);
});

test('a failed statement fails every read of it, and the next turn reads again', async () => {
  const t = table([{ key: 'a', n: 1 }]);
  t.failWith(new Error('connection lost'));
  const results = await Promise.allSettled([t.read('a'), t.read('b')]);
  assert.deepEqual(results.map((r) => r.status), ['rejected', 'rejected']);
  t.failWith(null);
  assert.deepEqual(await t.read('a'), [{ key: 'a', n: 1 }]);
});

test('at most 256 keys per statement; the rest are read by the next one', async () => {
  const t = table([]);
  await Promise.all(Array.from({ length: 300 }, (_, i) => t.read(`k${i}`)));
  assert.deepEqual(t.calls.map((keys) => keys.length), [256, 44]);
});

test('a key no stored text can equal (a NUL, a lone surrogate) is answered with nothing and does not join the statement', async () => {
  const t = table([{ key: 'a', n: 1 }]);
  const [a, nul, surrogate] = await Promise.all([t.read('a'), t.read('a\u0000b'), t.read('a\ud800')]);
  assert.deepEqual([a, nul, surrogate], [[{ key: 'a', n: 1 }], [], []]);
  assert.deepEqual(t.calls, [['a']]);
});
