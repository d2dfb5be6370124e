import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { createAuditFixture } from './audit-fixture.ts';

const BIN = new URL('../../bin/mandate.js', import.meta.url).pathname;

/** Runs the real `mandate` binary, with no MANDATE_* settings leaking in from the environment. */
function mandate(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('MANDATE_')));
  const result = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

test('audit verify: exit 0 on an intact log, 1 with one line per fault, JSON on request', async () => {
  const fx = await createAuditFixture();
  try {
    await fx.recordEvents(3);
    const ok = mandate('audit', 'verify', '--data', fx.dir);
    assert.equal(ok.status, 0, ok.stderr);
    assert.equal(ok.stdout, 'chain main: 3 events, last seq 3, checkpoint seq 3\naudit ok\n');

    fx.sql(`UPDATE audit_events SET type = 'token.revoked' WHERE seq = 2`);
    const bad = mandate('audit', 'verify', '--data', fx.dir);
    assert.equal(bad.status, 1, bad.stderr);
    assert.match(bad.stdout, /^ERR_AUDIT_HASH_MISMATCH chain=main seq=2: stored hash does not match the event content$/m);
    assert.match(bad.stdout, /^audit FAILED: 1 fault\(s\)$/m);

    const json = mandate('audit', 'verify', '--data', fx.dir, '--json');
    assert.equal(json.status, 1);
    const report = JSON.parse(json.stdout) as { ok: boolean; faults: { code: string; seq: number }[] };
    assert.equal(report.ok, false);
    assert.deepEqual(report.faults.map((f) => [f.code, f.seq]), [['ERR_AUDIT_HASH_MISMATCH', 2]]);
  } finally {
    await fx.close();
  }
});

test('audit verify --trusted-jwks: accepts the published keys, rejects heads signed by any other key', async () => {
  const fx = await createAuditFixture();
  const other = await createAuditFixture();
  try {
    await fx.recordEvents(2);
    const published = join(fx.dir, 'trusted.jwks.json');
    const foreign = join(fx.dir, 'foreign.jwks.json');
    writeFileSync(published, JSON.stringify(fx.keys.publishedJwks()));
    writeFileSync(foreign, JSON.stringify(other.keys.publishedJwks()));

    const ok = mandate('audit', 'verify', '--data', fx.dir, '--trusted-jwks', published);
    assert.equal(ok.status, 0, ok.stdout + ok.stderr);
    const bad = mandate('audit', 'verify', '--data', fx.dir, '--trusted-jwks', foreign);
    assert.equal(bad.status, 1);
    assert.match(bad.stdout, /^ERR_AUDIT_HEAD_SIGNATURE chain=main seq=2: /m);
    assert.match(bad.stdout, /^ERR_AUDIT_CHECKPOINT_INVALID chain=\*: checkpoint line 1 /m);
  } finally {
    await other.close();
    await fx.close();
  }
});

test('audit verify: usage and I/O errors exit 2', async () => {
  const empty = mkdtempSync(join(tmpdir(), 'mandate-audit-empty-'));
  try {
    const missing = mandate('audit', 'verify', '--data', empty);
    assert.equal(missing.status, 2);
    assert.equal(missing.stderr, `mandate audit: no store at ${join(empty, 'mandate.db')} (check --data / --config)\n`);
    const jwks = mandate('audit', 'verify', '--data', empty, '--trusted-jwks', join(empty, 'nope.json'));
    assert.equal(jwks.status, 2);
    assert.match(jwks.stderr, /^mandate audit: --trusted-jwks .*nope\.json: ENOENT/);
  } finally {
    rmSync(empty, { recursive: true, force: true });
  }
});

test('audit tail prints the newest events, oldest first, as text or JSON lines', async () => {
  const fx = await createAuditFixture();
  try {
    await fx.recordEvents(3);
    const text = mandate('audit', 'tail', '-n', '2', '--data', fx.dir);
    assert.equal(text.status, 0, text.stderr);
    assert.deepEqual(text.stdout.split('\n'), [
      '2025-01-01T00:00:04.000Z main:2 token.issued actor=agt_1 approver=hum_1 mandate=mdt_1 jti=jti-1 request=req-1',
      '2025-01-01T00:00:06.000Z main:3 token.issued actor=agt_1 approver=hum_1 mandate=mdt_1 jti=jti-2 request=req-2',
      '',
    ]);
    const json = mandate('audit', 'tail', '--json', '--data', fx.dir);
    const events = json.stdout.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    assert.deepEqual(events.map((e) => [e.seq, e.mandate_id, typeof e.hash]), [[1, 'mdt_1', 'string'], [2, 'mdt_1', 'string'], [3, 'mdt_1', 'string']]);
    const bad = mandate('audit', 'tail', '-n', '0', '--data', fx.dir);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /-n expects a whole number/);
  } finally {
    await fx.close();
  }
});
