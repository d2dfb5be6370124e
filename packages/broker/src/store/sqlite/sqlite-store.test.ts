import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { checkChain } from '../../core/audit-chain.ts';
import { nodeChainHashing } from '../chain-hashing.ts';
import { attestationKeysSuite } from '../conformance/attestation-keys.suite.ts';
import { attestationRepositorySuite } from '../conformance/attestations.suite.ts';
import { auditSinkSuite } from '../conformance/audit-sink.suite.ts';
import { changeFeedSuite } from '../conformance/change-feed.suite.ts';
import { consoleSuite } from '../conformance/console.suite.ts';
import { credentialRepositorySuite } from '../conformance/credentials.suite.ts';
import { directorySuite } from '../conformance/directory.suite.ts';
import type { StoreFixture } from '../conformance/fixture.ts';
import { findingsSuite } from '../conformance/findings.suite.ts';
import { keyStoreSuite } from '../conformance/key-store.suite.ts';
import { mandateRepositorySuite } from '../conformance/mandates.suite.ts';
import { notificationSinkSuite } from '../conformance/notification-sink.suite.ts';
import { reviewRepositorySuite } from '../conformance/reviews.suite.ts';
import { webhookDeliveriesSuite } from '../conformance/webhook-deliveries.suite.ts';
import { aHuman } from '../conformance/records.ts';
import { secretsSuite } from '../conformance/secrets.suite.ts';
import { replayCacheSuite } from '../conformance/replay-cache.suite.ts';
import { useCountersSuite } from '../conformance/use-counters.suite.ts';
import { ssfStreamRepositorySuite } from '../conformance/ssf-streams.suite.ts';
import { statusListRepositorySuite } from '../conformance/status-lists.suite.ts';
import { issueCommitSuite } from '../conformance/issue-commit.suite.ts';
import type { ContentionJob } from './contention-worker.ts';
import { createSqliteStore } from './index.ts';

async function withTempDir<T>(work: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'mandate-store-'));
  try {
    return await work(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Two stores, i.e. two connections, on one fresh file. */
async function makeSqliteFixture(): Promise<StoreFixture> {
  const dir = await mkdtemp(join(tmpdir(), 'mandate-store-'));
  const path = join(dir, 'store.db');
  const a = await createSqliteStore({ path });
  const b = await createSqliteStore({ path });
  return {
    a,
    b,
    cleanup: async () => {
      await Promise.all([a.close(), b.close()]);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

replayCacheSuite(makeSqliteFixture);
useCountersSuite(makeSqliteFixture);
keyStoreSuite(makeSqliteFixture);
changeFeedSuite(makeSqliteFixture);
auditSinkSuite(makeSqliteFixture);
notificationSinkSuite(makeSqliteFixture);
reviewRepositorySuite(makeSqliteFixture);
webhookDeliveriesSuite(makeSqliteFixture);
directorySuite(makeSqliteFixture);
mandateRepositorySuite(makeSqliteFixture);
consoleSuite(makeSqliteFixture);
credentialRepositorySuite(makeSqliteFixture);
attestationRepositorySuite(makeSqliteFixture);
secretsSuite(makeSqliteFixture);
attestationKeysSuite(makeSqliteFixture);
statusListRepositorySuite(makeSqliteFixture);
issueCommitSuite(makeSqliteFixture);
ssfStreamRepositorySuite(makeSqliteFixture);
findingsSuite(makeSqliteFixture);

test('data written by one store survives closing and reopening the file', async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, 'store.db');
    const first = await createSqliteStore({ path });
    await first.humans.insert(aHuman(1));
    await first.counters.create('m1', 5);
    await first.counters.take('m1');
    await first.audit.append('main', [{ type: 'human.added', actor: 'usr_1' }], 10, (h) => `sealed:${h.seq}`);
    await first.close();
    const second = await createSqliteStore({ path });
    assert.deepEqual(await second.humans.get('usr_1'), aHuman(1));
    assert.equal(await second.counters.remaining('m1'), 4);
    assert.deepEqual(await second.audit.head('main'), { chain: 'main', seq: 1, hash: (await second.audit.read('main', 1, 1))[0]?.hash, jws: 'sealed:1' });
    await second.close();
  });
});

test('appends and takes from three processes, each with its own connection, stay atomic', async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, 'store.db');
    const store = await createSqliteStore({ path });
    await store.counters.create('uses', 100);
    await store.counters.create('start', 3);
    const job = (tag: string): ContentionJob => ({ path, tag, appends: 40, takes: 60 });
    const taken = (await Promise.all(['w1', 'w2', 'w3'].map((tag) => runWorker(job(tag))))).flat();
    assert.deepEqual(taken.sort((x, y) => x - y), Array.from({ length: 100 }, (_, i) => i));
    const events = await store.audit.read('main', 1, 10_000);
    assert.equal(events.length, 3 * (14 * 1 + 13 * 2 + 13 * 3));
    assert.deepEqual(checkChain(events, nodeChainHashing), []);
    const switches = events.filter((e, i) => i > 0 && e.actor !== events[i - 1]!.actor).length;
    assert.ok(switches >= 6, `the processes' appends barely interleaved (${switches} switches): nothing was contended`);
    const last = events.at(-1)!;
    assert.deepEqual(await store.audit.head('main'), { chain: 'main', seq: last.seq, hash: last.hash, jws: `sealed:main:${last.seq}:${last.hash}` });
    await store.close();
  });
});

/** A separate process: ESM loader hooks (tsx) cannot reach worker threads on Node 20 (nodejs/node#47747). */
async function runWorker(job: ContentionJob): Promise<number[]> {
  const worker = fileURLToPath(new URL('./contention-worker.ts', import.meta.url));
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', worker, JSON.stringify(job)]);
  return JSON.parse(stdout) as number[];
}
