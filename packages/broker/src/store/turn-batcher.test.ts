import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { rejectEach, turnBatcher } from './turn-batcher.ts';

/** A batcher whose batches finish only when the test releases them; `batches` lists what each got. */
function controlled(oneAtATime: boolean, overlapAfterMs?: number, maxRunning?: number) {
  const batches: number[][] = [];
  const releases: Array<() => void> = [];
  const enqueue = turnBatcher<number>(100, (batch) => {
    batches.push(batch);
    return new Promise<void>((resolve) => releases.push(resolve));
  }, { oneAtATime, ...(overlapAfterMs === undefined ? {} : { overlapAfterMs }), ...(maxRunning === undefined ? {} : { maxRunning }) });
  return { batches, releases, enqueue };
}

const turn = () => new Promise((resolve) => setImmediate(resolve));

test('items of one turn form one batch; without oneAtATime, the next turn\'s start at once', async () => {
  const { batches, enqueue } = controlled(false);
  enqueue(1);
  enqueue(2);
  await turn();
  enqueue(3);
  await turn();
  assert.deepEqual(batches, [[1, 2], [3]]);
});

test('one at a time: what arrives while a batch runs waits, then goes as one batch', async () => {
  const { batches, releases, enqueue } = controlled(true);
  enqueue(1);
  await turn();
  for (const item of [2, 3, 4]) {
    enqueue(item);
    await turn();
  }
  assert.deepEqual(batches, [[1]]);
  releases[0]!();
  await turn();
  await turn();
  assert.deepEqual(batches, [[1], [2, 3, 4]]);
});

test('one at a time with overlapAfterMs: a batch running that long no longer holds the next one back', async () => {
  const { batches, releases, enqueue } = controlled(true, 500, 3);
  enqueue(1);
  await turn();
  enqueue(2);
  await sleep(100);
  assert.deepEqual(batches, [[1]], 'within the bound, the next batch waits');
  for (let waited = 0; batches.length < 2 && waited < 5_000; waited += 20) await sleep(20);
  assert.deepEqual(batches, [[1], [2]], 'past it, the next batch starts though the first still runs');
  enqueue(3);
  await sleep(100);
  assert.equal(batches.length, 2, 'and the bound counts again from that start');
  releases[1]!();
  await turn();
  await turn();
  assert.deepEqual(batches, [[1], [2], [3]], 'one batch still running, but started long enough ago: the next goes');
  for (const release of releases) release();
});

test('overlapping batches stop at maxRunning; the rest waits for one to finish', async () => {
  const { batches, releases, enqueue } = controlled(true, 50, 2);
  enqueue(1);
  await turn();
  enqueue(2);
  for (let waited = 0; batches.length < 2 && waited < 5_000; waited += 20) await sleep(20);
  enqueue(3);
  await sleep(300);
  assert.deepEqual(batches, [[1], [2]], 'two running: the third batch waits however long they take');
  releases[0]!();
  for (let waited = 0; batches.length < 3 && waited < 5_000; waited += 20) await sleep(20);
  assert.deepEqual(batches, [[1], [2], [3]]);
  for (const release of releases) release();
});

test('items beyond max form the next batch once the running one allows it, without a new item to wake the queue', async () => {
  const batches: number[][] = [];
  const releases: Array<() => void> = [];
  const enqueue = turnBatcher<number>(2, (batch) => {
    batches.push(batch);
    return new Promise<void>((resolve) => releases.push(resolve));
  }, { oneAtATime: true, overlapAfterMs: 50 });
  for (const item of [1, 2, 3]) enqueue(item);
  for (let waited = 0; batches.length < 2 && waited < 5_000; waited += 20) await sleep(20);
  assert.deepEqual(batches, [[1, 2], [3]]);
  for (const release of releases) release();
});

test('a run that throws: failed gets the batch and the error, and the next batch still runs', async () => {
  const batches: number[][] = [];
  const failures: Array<[number[], string]> = [];
  const enqueue = turnBatcher<number>(100, async (batch) => {
    batches.push(batch);
    if (batch.includes(1)) throw new Error('commit lost');
  }, { oneAtATime: true, failed: (batch, error) => failures.push([batch, (error as Error).message]) });
  enqueue(1);
  await turn();
  enqueue(2);
  for (let waited = 0; batches.length < 2 && waited < 5_000; waited += 20) await sleep(20);
  assert.deepEqual(failures, [[[1], 'commit lost']]);
  assert.deepEqual(batches, [[1], [2]]);
});

test('rejectEach rejects every item; one settled already stays as it was', async () => {
  const settled: string[] = [];
  const item = (name: string) => {
    let reject!: (error: unknown) => void;
    const promise = new Promise((resolve, rej) => { reject = rej; if (name === 'a') resolve('done'); });
    promise.then(() => settled.push(`${name}: resolved`), (error: Error) => settled.push(`${name}: ${error.message}`));
    return { reject };
  };
  rejectEach([item('a'), item('b')], new Error('commit lost'));
  await turn();
  assert.deepEqual(settled, ['a: resolved', 'b: commit lost']);
});
