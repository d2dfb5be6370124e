import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, test } from 'node:test';
import { ConfigError, loadConfig, type Config } from '../config/load.ts';
import type { Change } from '../ports/change-feed.ts';
import { withPollingSubscribe } from './change-subscription.ts';
import { createStore } from './open-store.ts';
import { createSqliteStore } from './sqlite/index.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** Loads a config file holding `raw`, with `env`. */
function load(raw: Record<string, unknown>, env: Record<string, string> = {}): Config {
  const dir = mkdtempSync(join(tmpdir(), 'mandate-open-store-'));
  dirs.push(dir);
  writeFileSync(join(dir, 'config.json'), JSON.stringify(raw));
  return loadConfig({ flags: { data: join(dir, 'data'), config: join(dir, 'config.json') }, env });
}

const configIssue = (fn: () => unknown): string => {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    return error.message;
  }
  throw new Error('the config was accepted');
};

test('store.url that is not a postgres:// URL fails at start with the dotted path, and never echoes the password', () => {
  for (const url of ['mysql://u:s3cret@db/x', 'postgres-is-great', 'file:///tmp/x.db', 'postgres://']) {
    const message = configIssue(() => load({ store: { url } }));
    assert.match(message, /store\.url/);
    assert.doesNotMatch(message, /s3cret/);
  }
});

test('store.url comes from the file or from env MANDATE_STORE_URL; absent, SQLite stays the default', async () => {
  assert.equal(load({ store: { url: 'postgres://mandate:pw@db.internal:5432/mandate' } }).store.url, 'postgres://mandate:pw@db.internal:5432/mandate');
  assert.equal(load({}, { MANDATE_STORE_URL: 'postgresql://db/m' }).store.url, 'postgresql://db/m');
  const config = load({});
  assert.equal(config.store.url, undefined);
  assert.equal(config.store.pollInterval, 5_000);
  mkdirSync(config.dataDir, { recursive: true });
  const store = await createStore(config);
  try {
    assert.ok('raw' in store && 'raw' in (store as { raw: object }).raw, 'the SQLite store');
  } finally {
    await store.close();
  }
});

test('on SQLite, a polling subscription delivers changes another connection published, in order', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mandate-poll-'));
  dirs.push(dir);
  const a = await createSqliteStore({ path: join(dir, 'm.db') });
  const b = await createSqliteStore({ path: join(dir, 'm.db') });
  const received: Change[] = [];
  await a.changes.publish('token.revoked', 'before', 1);
  const subscription = withPollingSubscribe(b.changes).subscribe!((change) => void received.push(change), { pollIntervalMs: 20 });
  try {
    await new Promise((resolve) => setTimeout(resolve, 60));
    for (const key of ['k1', 'k2']) await a.changes.publish('token.revoked', key, 2);
    const deadline = Date.now() + 2_000;
    while (received.length < 2 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
    assert.deepEqual(received.map((c) => c.key), ['k1', 'k2'], 'only changes after subscribing, in order');
  } finally {
    await subscription.close();
    await a.close();
    await b.close();
  }
});
