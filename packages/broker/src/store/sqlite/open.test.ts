import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readlinkSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { openSqlite, openSqliteConnection, scrubRewrittenPages, TEMP_STORE, WAL_AUTOCHECKPOINT_PAGES } from './open.ts';

test('migrations create every table and are idempotent across reopen', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mandate-open-'));
  try {
    const path = join(dir, 'store.db');
    const first = await openSqlite({ path });
    await first.db.destroy();
    const second = await openSqlite({ path });
    const tables = second.raw
      .prepare("select name from sqlite_master where type = 'table' and name not like 'sqlite_%' and name not like 'kysely_%' order by name")
      .all()
      .map((r) => (r as { name: string }).name);
    assert.deepEqual(tables, [
      'admin_tokens', 'agent_flags', 'agent_humans', 'agents', 'attestation_keys', 'attestations', 'audit_events', 'audit_heads', 'broker_secrets', 'changes',
      'console_sessions', 'credentials', 'findings', 'human_invites', 'human_oidc_links', 'human_roles', 'humans', 'mandate_reviews', 'mandates', 'notifications',
      'passkeys', 'replay_cache', 'signing_keys', 'ssf_cursors', 'ssf_outbox', 'ssf_stream_subjects', 'ssf_streams', 'status_list_slots', 'status_lists',
      'use_counters', 'webhook_attempts', 'webhook_deliveries',
    ]);
    assert.equal(second.raw.pragma('journal_mode', { simple: true }), 'wal');
    assert.equal(second.raw.pragma('wal_autocheckpoint', { simple: true }), WAL_AUTOCHECKPOINT_PAGES, 'checkpoints every 4,000 pages, not every 1,000');
    assert.equal(second.raw.pragma('temp_store', { simple: true }), TEMP_STORE.memory);
    await second.db.destroy();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** Files this process holds open that SQLite made for itself in the temp directory (Linux: /proc). */
const sqliteTempFiles = () => readdirSync('/proc/self/fd').flatMap((fd) => {
  try {
    return [readlinkSync(`/proc/self/fd/${fd}`)];
  } catch {
    return []; // closed between the listing and the read
  }
}).filter((target) => target.includes('etilqs_'));

test('a savepoint that changes many pages keeps their old copies in memory, not in a temp file', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mandate-subjournal-'));
  const store = await openSqlite({ path: join(dir, 'store.db') });
  try {
    const insert = store.raw.prepare('insert into replay_cache (namespace, id, expires_at) values (?, ?, ?)');
    store.raw.transaction(() => {
      for (let i = 0; i < 4000; i++) insert.run('n', `${i}`.padStart(64, '0'), i);
    })();
    const before = sqliteTempFiles();
    // A group commit's work: a savepoint inside the batch's transaction, rewriting pages that
    // existed before it (well past SQLite's 64 KiB spill threshold).
    store.raw.transaction(() => {
      store.raw.transaction(() => store.raw.prepare('update replay_cache set expires_at = expires_at + 1').run())();
      assert.deepEqual(sqliteTempFiles(), before, 'no statement journal in the temp directory');
    }).immediate();
  } finally {
    await store.db.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('scrubRewrittenPages builds the VACUUM copy on disk, not in memory, and then keeps temporary data in memory again', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mandate-vacuum-'));
  const store = await openSqlite({ path: join(dir, 'store.db') });
  try {
    const seen: unknown[] = [];
    const exec = store.raw.exec.bind(store.raw);
    store.raw.exec = (sql: string) => {
      if (sql === 'VACUUM') seen.push(store.raw.pragma('temp_store', { simple: true }));
      return exec(sql);
    };
    assert.equal(scrubRewrittenPages(store.raw), true);
    assert.deepEqual(seen, [TEMP_STORE.file], 'one VACUUM, with temp_store = FILE');
    assert.equal(store.raw.pragma('temp_store', { simple: true }), TEMP_STORE.memory);
  } finally {
    await store.db.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('scrubRewrittenPages: true and an empty WAL when alone; false when a reader keeps the checkpoint from finishing', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mandate-scrub-'));
  try {
    const path = join(dir, 'store.db');
    const store = await openSqlite({ path, busyTimeoutMs: 50 });
    store.raw.prepare('insert into broker_secrets (name, value, created_at) values (?, ?, 0)').run('s', 'plaintext');
    assert.equal(scrubRewrittenPages(store.raw), true);
    assert.equal(statSync(`${path}-wal`).size, 0, 'the TRUNCATE checkpoint emptied the WAL');
    assert.equal(store.raw.pragma('freelist_count', { simple: true }), 0);

    store.raw.prepare('update broker_secrets set value = ? where name = ?').run('sealed', 's');
    const reader = openSqliteConnection({ path, busyTimeoutMs: 50 });
    reader.exec('begin');
    reader.prepare('select count(*) from broker_secrets').get(); // a read transaction pins the WAL
    try {
      assert.equal(scrubRewrittenPages(store.raw), false);
    } finally {
      reader.exec('commit');
      reader.close();
    }
    await store.db.destroy();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
