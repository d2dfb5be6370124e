import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { checkChain } from '../packages/broker/src/core/audit-chain.ts';
import { nodeChainHashing } from '../packages/broker/src/store/chain-hashing.ts';
import { createSqliteStore } from '../packages/broker/src/store/sqlite/index.ts';
import { buildScaleStore } from './scale-build.ts';

const root = new URL('..', import.meta.url).pathname;
const run = promisify(execFile);

/** Every number in `value` (recursively) is finite; returns the paths that are not. */
function nonFinite(value: unknown, path = '$'): string[] {
  if (typeof value === 'number') return Number.isFinite(value) ? [] : [path];
  if (Array.isArray(value)) return value.flatMap((v, i) => nonFinite(v, `${path}[${i}]`));
  if (value && typeof value === 'object') return Object.entries(value).flatMap(([k, v]) => nonFinite(v, `${path}.${k}`));
  return [];
}

test('the built store holds valid chains (and passes `mandate audit verify`), complete mandate histories and the issuance of each sampled jti', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mandate-scale-test-'));
  try {
    const built = await buildScaleStore(join(dir, 'data'), { agents: 500, events: 5_000, sampleSize: 50 }, { deadlineMs: performance.now() + 30_000, log: () => undefined });
    assert.equal(built.figures.events, 5_000);
    const store = await createSqliteStore({ path: built.dbPath });
    try {
      let total = 0;
      for (const chain of await store.audit.chains()) {
        const records = await store.audit.read(chain, 1, 10_000);
        total += records.length;
        assert.deepEqual(checkChain(records, nodeChainHashing), [], chain);
        assert.equal((await store.audit.head(chain))?.seq, records.at(-1)?.seq, `${chain} head`);
      }
      assert.equal(total, 5_000 + 2); // plus the bootstrap's human.added and admin_token.created
      for (const id of built.samples.mandateIds.slice(0, 10)) {
        const history = await store.audit.byMandate(id, 100);
        assert.ok(history.length >= 10 && history.length <= 50, `${id}: ${history.length} events`);
      }
      for (const jti of built.samples.jtis.slice(0, 10)) {
        // The issuance, and its revocation when the session revoked that token.
        const events = await store.audit.byJti(jti);
        assert.deepEqual(events.map((e) => e.type).slice(0, 1), ['token.issued']);
        assert.ok(events.length <= 2 && events.slice(1).every((e) => e.type === 'token.revoked'));
      }
      assert.equal((await store.agents.list()).length, 500);
    } finally {
      await store.close();
    }
    // The broker's own offline check: chains, sealed heads and the checkpoint file.
    const bin = join(root, 'packages/broker/bin/mandate.js');
    const { stdout } = await run(process.execPath, [bin, 'audit', 'verify', '--data', join(dir, 'data')], { env: { PATH: process.env.PATH ?? '' }, timeout: 30_000 });
    assert.match(stdout, /audit ok/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a tiny quick run writes a well-formed result and deletes its store', { timeout: 60_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mandate-scale-run-'));
  const out = join(dir, 'results');
  try {
    const args = ['--import', 'tsx', 'bench/scale.ts', '--quick', '--agents', '2000', '--events', '20000', '--lookups', '200', '--mint-plan', 'tiny', '--dir', dir, '--out', out];
    const { stdout } = await run(process.execPath, args, { cwd: root, timeout: 55_000, maxBuffer: 16 * 2 ** 20 });
    assert.match(stdout, /\| P7a \|/);
    const files = readdirSync(out);
    assert.equal(files.length, 1);
    assert.match(files[0]!, /-scale-quick\.json$/);
    const result = JSON.parse(readFileSync(join(out, files[0]!), 'utf8')) as Record<string, any>;
    assert.deepEqual(Object.keys(result.ratios).sort(), ['P7a', 'P7b', 'P7c', 'P7c_window', 'P7d', 'P7d_per_cpu']);
    for (const key of ['build', 'agent_by_id', 'audit_by_mandate', 'audit_by_jti', 'audit_window_100', 'attested_http_mint_big_store', 'attested_http_mint_empty_store'])
      assert.ok(result.figures[key], `figures.${key}`);
    for (const key of ['agent_by_id', 'audit_by_mandate', 'audit_by_jti', 'audit_window_100']) {
      assert.equal(result.figures[key].unit, 'ms');
      assert.equal(result.figures[key].empty, 0, `${key}: every sampled key is found`);
      assert.ok(result.queryPlans[key].length > 0, `queryPlans.${key}`);
    }
    assert.equal(result.figures.build.events, 20_000);
    assert.equal(result.figures.attested_http_mint_big_store.nonOk, 0);
    assert.equal(result.figures.attested_http_mint_empty_store.nonOk, 0);
    assert.ok(result.commit && result.node && result.machine && result.versions.sqlite);
    assert.deepEqual(nonFinite(result), []);
    assert.deepEqual(readdirSync(dir).filter((name) => name.startsWith('mandate-scale-')), [], 'the store is deleted');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
