import { after, before } from 'node:test';
import { hotReadTests } from './support/hot-reads.ts';
import { startLoopFixture, type LoopFixture } from './support/loop-fixture.ts';

/**
 * The token endpoint's copies in memory of active agents and mandates on the embedded SQLite store,
 * the same tests as on PostgreSQL (postgres-app.test.ts). A long polling interval: a change this
 * process commits empties the copies one feed read after its commit, without waiting for a poll.
 */
let fx: LoopFixture;
before(async () => {
  fx = await startLoopFixture({ config: { store: { pollInterval: '60s' } } });
});
after(async () => {
  await fx?.close();
});

hotReadTests(() => fx);
