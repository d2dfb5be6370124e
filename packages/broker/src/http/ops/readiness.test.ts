import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkReadiness, type ReadinessDeps } from './readiness.ts';

const keys = { signingKey: () => ({}) } as unknown as ReadinessDeps['keys'];
const serving = { draining: false };
const changes = { latest: async () => 0 } as unknown as ReadinessDeps['store']['changes'];

test('a store slower than the timeout counts as unreachable', async () => {
  const store = { changes, ping: () => new Promise<void>(() => undefined) };
  const readiness = await checkReadiness({ store, keys, serving, timeoutMs: 20 });
  assert.equal(readiness.ready, false);
  assert.deepEqual(readiness.failures, ['store: the store does not answer']);
});

test('a store without ping or migrationStatus: reachability through the change feed, migrations not checked', async () => {
  const readiness = await checkReadiness({ store: { changes }, keys, serving, timeoutMs: 100 });
  assert.deepEqual(readiness, { ready: true, checks: { shutdown: 'ok', store: 'ok', keys: 'ok', migrations: 'not_checked' }, failures: [] });
});

test('a migration list that cannot be read fails the migrations check', async () => {
  const store = { changes, ping: async () => undefined, migrationStatus: () => Promise.reject(new Error('no table')) };
  const readiness = await checkReadiness({ store, keys, serving, timeoutMs: 100 });
  assert.deepEqual(readiness.checks.migrations, 'fail');
  assert.deepEqual(readiness.failures, ['migrations: the migration list could not be read']);
});
