/**
 * Test helper run as a child process (`node --import tsx contention-worker.ts '<job json>'`):
 * a replica with its own connection on the shared file, hammering the store so that the SQLite
 * write lock is really contended (within one event loop it never is). Prints the takes as JSON.
 */
import type { Store } from '../../ports/store.ts';
import { createSqliteStore } from './index.ts';

export interface ContentionJob {
  path: string;
  tag: string;
  appends: number;
  takes: number;
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Start barrier: process startup is slow and uneven, so without it the runs barely overlap. */
async function waitForAll(store: Store): Promise<void> {
  await store.counters.take('start');
  while ((await store.counters.remaining('start')) !== 0) await pause(2);
}

async function run(job: ContentionJob): Promise<number[]> {
  const store = await createSqliteStore({ path: job.path });
  const taken: number[] = [];
  try {
    await waitForAll(store);
    for (let i = 0; i < Math.max(job.appends, job.takes); i++) {
      if (i < job.appends) {
        const inputs = Array.from({ length: 1 + (i % 3) }, (_, k) => ({ type: 'token.issued' as const, actor: job.tag, jti: `${job.tag}-${i}-${k}` }));
        await store.audit.append('main', inputs, i, (h) => `sealed:${h.chain}:${h.seq}:${h.hash}`);
      }
      const left = i < job.takes ? await store.counters.take('uses') : null;
      if (left !== null) taken.push(left);
      await pause(1);
    }
    return taken;
  } finally {
    await store.close();
  }
}

if (process.argv[2]) process.stdout.write(JSON.stringify(await run(JSON.parse(process.argv[2]) as ContentionJob)));
