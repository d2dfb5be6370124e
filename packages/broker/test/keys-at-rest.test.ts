import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import pg from 'pg';
import { createApp } from '../src/app.ts';
import { ConfigError, loadConfig } from '../src/config/load.ts';
import { TEST_POLICIES } from './support/app-fixture.ts';
import { databaseFactory, startPostgres, type PostgresCluster } from './support/postgres.ts';

/**
 * Keys at rest (docs/keys-at-rest.md) on the real `mandate serve`: owner-only files after a start
 * and a key rotation, sealing on first start with `keys.encryptionKeyEnv`, refusal to start with a
 * missing, malformed or wrong wrapping key, rotation of the wrapping key, and the same sealing on
 * PostgreSQL (the wrappers sit above the store port).
 */
const BIN = new URL('../bin/mandate.js', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'mandate-keys-at-rest-'));
const started = new Set<ChildProcess>();
after(() => {
  for (const child of started) if (child.exitCode === null) child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

const WRAP_A = randomBytes(32).toString('base64url');
const WRAP_B = randomBytes(32).toString('base64url');
let runs = 0;

interface Running {
  child: ChildProcess;
  base: string;
  output: () => string;
}

function configFile(keys: Record<string, unknown> = {}): string {
  const file = join(dir, `config-${++runs}.json`);
  writeFileSync(file, JSON.stringify({ keys: { activationDelay: '0s', ...keys }, attestation: { policies: TEST_POLICIES } }));
  return file;
}

function serveArgs(data: string, config: string): string[] {
  return [BIN, 'serve', '--data', data, '--port', '0', '--config', config, '--log-level', 'warn'];
}

/** Starts the real `mandate serve` and waits for its listening line. */
async function serve(data: string, config: string, env: Record<string, string> = {}): Promise<Running> {
  const child = spawn(process.execPath, serveArgs(data, config), { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  started.add(child);
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const base = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve did not start:\n${out}`)), 30_000);
    child.stdout!.on('data', () => {
      const match = /listening on (http:\/\/[\d.]+:\d+)/.exec(out);
      if (match) resolve(match[1]!), clearTimeout(timer);
    });
    child.once('exit', (code) => reject(new Error(`serve exited with ${code}:\n${out}`)));
  });
  return { child, base, output: () => out };
}

/** A start that must fail: its exit code and what it printed. */
function failedStart(data: string, config: string, env: Record<string, string> = {}): { status: number | null; out: string } {
  const run = spawnSync(process.execPath, serveArgs(data, config), { env: { ...process.env, ...env }, timeout: 60_000, encoding: 'utf8' });
  return { status: run.status, out: `${run.stdout}${run.stderr}` };
}

async function stop(running: Running): Promise<void> {
  const exited = new Promise((resolve) => running.child.once('exit', resolve));
  running.child.kill('SIGTERM');
  await exited;
}

const adminToken = (data: string) => readFileSync(join(data, 'admin-token'), 'utf8').trim();
async function rotate(base: string, data: string): Promise<string> {
  const response = await fetch(`${base}/admin/v1/keys/rotate`, { method: 'POST', headers: { authorization: `Bearer ${adminToken(data)}` } });
  assert.equal(response.status, 201, await response.clone().text());
  return ((await response.json()) as { kid: string }).kid;
}

function filesUnder(root: string): string[] {
  return readdirSync(root, { withFileTypes: true }).flatMap((entry) => (entry.isDirectory() ? filesUnder(join(root, entry.name)) : [join(root, entry.name)]));
}

function assertOwnerOnly(data: string): string[] {
  assert.equal(statSync(data).mode & 0o777, 0o700, 'the data directory is 0700');
  const files = filesUnder(data);
  for (const file of files) assert.equal((statSync(file).mode & 0o777).toString(8), '600', `${file} is owner-only`);
  return files.map((file) => file.slice(data.length + 1)).sort();
}

/** Every byte the store keeps on disk: the database and its -wal/-shm companions. */
function storeBytes(data: string): string {
  return filesUnder(data).filter((file) => file.includes('mandate.db')).map((file) => readFileSync(file).toString('latin1')).join('\n');
}

function privateDs(data: string): string[] {
  const db = new Database(join(data, 'mandate.db'), { readonly: true });
  try {
    const rows = db.prepare('SELECT private_jwk FROM signing_keys').all() as Array<{ private_jwk: string }>;
    return rows.map((row) => (JSON.parse(row.private_jwk) as { d?: string }).d).filter((d): d is string => typeof d === 'string');
  } finally {
    db.close();
  }
}

function storedSecrets(data: string): string[] {
  const db = new Database(join(data, 'mandate.db'), { readonly: true });
  try {
    return (db.prepare('SELECT value FROM broker_secrets').all() as Array<{ value: string }>).map((row) => row.value);
  } finally {
    db.close();
  }
}

describe('file modes', () => {
  test('after a real start and a key rotation: data dir 0700, the database, -wal, -shm and every other file 0600', async () => {
    const data = join(dir, 'modes');
    mkdirSync(data, { mode: 0o755 });
    chmodSync(data, 0o755); // an operator's too-open directory is tightened at start
    const running = await serve(data, configFile());
    await rotate(running.base, data);
    const files = assertOwnerOnly(data);
    for (const name of ['admin-token', 'mandate.db', 'mandate.db-wal', 'mandate.db-shm']) assert.ok(files.includes(name), `${name} in ${files.join(', ')}`);
    await stop(running);
    assertOwnerOnly(data);
  });
});

describe('sealing with keys.encryptionKeyEnv (SQLite)', () => {
  const data = join(dir, 'sealed');
  let plainDs: string[] = [];
  let plainSecrets: string[] = [];
  let kids: string[] = [];

  before(async () => {
    const running = await serve(data, configFile());
    kids = [((await (await fetch(`${running.base}/jwks`)).json()) as { keys: Array<{ kid: string }> }).keys[0]!.kid, await rotate(running.base, data)];
    await stop(running);
    plainDs = privateDs(data);
    plainSecrets = storedSecrets(data);
    assert.equal(plainDs.length, 2, 'without encryption the private keys are stored as they are (the state being migrated)');
    assert.ok(plainSecrets.length >= 3);
  });

  test('the first start with encryption on seals every existing key and secret; the file bytes hold no "d": and none of the old values', async () => {
    const running = await serve(data, configFile({ encryptionKeyEnv: 'MANDATE_TEST_WRAP' }), { MANDATE_TEST_WRAP: WRAP_A });
    assert.match(running.output(), new RegExp(`keys at rest: rewrote 2 signing keys and ${plainSecrets.length} secrets`));
    const jwks = (await (await fetch(`${running.base}/jwks`)).json()) as { keys: Array<{ kid: string }> };
    assert.deepEqual(jwks.keys.map((k) => k.kid).sort(), [...kids].sort(), 'the same keys, still published');
    await rotate(running.base, data); // a key made with encryption on is sealed from the start
    await stop(running);
    const bytes = storeBytes(data);
    assert.doesNotMatch(bytes, /"d":/);
    for (const value of [...plainDs, ...plainSecrets]) assert.ok(!bytes.includes(value), 'an old plaintext value survived in the database file');
    assert.deepEqual(privateDs(data), []);
    assert.ok(storedSecrets(data).every((value) => value.startsWith('mse1.')));
  });

  test('the wrong wrapping key: exit 2, the dotted path and both key ids, no stack trace', () => {
    const run = failedStart(data, configFile({ encryptionKeyEnv: 'MANDATE_TEST_WRAP' }), { MANDATE_TEST_WRAP: WRAP_B });
    assert.equal(run.status, 2, run.out);
    assert.match(run.out, /config error at keys\.encryptionKeyEnv: the signing-key \S+ is sealed with wrapping key \S+, but the configured wrapping keys are \S+ \(ERR_KEYS_AT_REST_UNREADABLE\)/);
    assert.doesNotMatch(run.out, /\n\s+at /, 'no stack trace');
    assert.ok(!run.out.includes(WRAP_B));
  });

  test('a sealed store started without encryption fails like bad config: no wrapping key is configured', async () => {
    await assert.rejects(startInProcess(data, {}, {}), configError(/^config error at keys\.encryptionKeyEnv: the signing-key \S+ is sealed with wrapping key \S+, but no wrapping key is configured/));
  });

  test('the variable unset or malformed fails with the dotted path, the value never in the message', async () => {
    await assert.rejects(startInProcess(data, { encryptionKeyEnv: 'MANDATE_TEST_WRAP' }, {}), configError(/^config error at keys\.encryptionKeyEnv: the environment variable MANDATE_TEST_WRAP is not set$/));
    await assert.rejects(
      startInProcess(data, { encryptionKeyEnv: 'MANDATE_TEST_WRAP' }, { MANDATE_TEST_WRAP: 'not-a-key-value-1234' }),
      (error: unknown) => configError(/^config error at keys\.encryptionKeyEnv: MANDATE_TEST_WRAP must hold 32 random bytes/)(error) && !(error as Error).message.includes('not-a-key-value-1234'),
    );
  });

  test('rotating the wrapping key: previous → current reseals everything at start; then the old key is no longer needed', async () => {
    const stderr = captureStderr();
    try {
      const rotating = await startInProcess(data, { encryptionKeyEnv: 'NEW', previousEncryptionKeyEnv: 'OLD' }, { NEW: WRAP_B, OLD: WRAP_A });
      await rotating.close();
      assert.match(stderr.text(), new RegExp(`keys at rest: rewrote 3 signing keys and ${plainSecrets.length} secrets`));
    } finally {
      stderr.restore();
    }
    const after = await startInProcess(data, { encryptionKeyEnv: 'NEW' }, { NEW: WRAP_B });
    assert.equal(after.keys.publishedJwks().keys.length, 3);
    await after.close();
    await assert.rejects(startInProcess(data, { encryptionKeyEnv: 'NEW' }, { NEW: WRAP_A }), configError(/sealed with wrapping key \S+, but the configured wrapping keys are/), 'the old key opens nothing now');
  });
});

describe('no plaintext residue after sealing (SQLite)', () => {
  /**
   * secure_delete=FAST zeroes freed cell content but not whole pages put on the freelist, and a
   * rewritten page's old version stays in the database file until the WAL is checkpointed
   * (sqlite.org/pragma.html#pragma_secure_delete, sqlite.org/wal.html). So the bytes are read while
   * the sealing broker still runs, which is also what a kill or power loss right after the start leaves.
   */
  test('while the broker that sealed an existing plaintext store runs, mandate.db and its -wal hold no old value; the freelist is empty', async () => {
    const data = join(dir, 'residue');
    const plain = await startInProcess(data, {}, {});
    for (let i = 0; i < 3; i++) await plain.keys.rotate();
    await plain.close();
    const canary = forgetWithoutSecureDelete(data);
    const oldValues = [...privateDs(data), ...storedSecrets(data), canary];
    assert.equal(privateDs(data).length, 4);
    const before = storeBytes(data);
    assert.ok(before.includes(privateDs(data)[0]!) && before.includes(canary), 'the check can fail: the plaintext store holds its "d" values and the deleted row');

    const sealing = await startInProcess(data, { encryptionKeyEnv: 'WRAP' }, { WRAP: WRAP_A });
    try {
      const files = filesUnder(data).filter((file) => file.includes('mandate.db')).map((file) => file.slice(data.length + 1)).sort();
      assert.ok(files.includes('mandate.db-wal'), `the WAL is there while running: ${files.join(', ')}`);
      const bytes = storeBytes(data);
      assert.ok(!bytes.includes('"d":'), 'a private "d" member survived in mandate.db or mandate.db-wal'); // the message, not the bytes
      for (const value of oldValues) assert.ok(!bytes.includes(value), 'an old plaintext value survived in mandate.db or mandate.db-wal');
      assert.equal(pragmaOf(data, 'freelist_count'), 0, 'no freelist page keeps old content');
    } finally {
      await sealing.close();
    }
  });
});

/**
 * What a store written before secure_delete was on keeps: deleted rows' bytes left in page free
 * space and in whole freelist pages. 300 secret-like rows are inserted, then deleted with secure_delete off.
 */
function forgetWithoutSecureDelete(data: string): string {
  const canary = `residue-canary-${randomBytes(16).toString('base64url')}`;
  const db = new Database(join(data, 'mandate.db'));
  try {
    db.pragma('secure_delete = OFF');
    const insert = db.prepare('INSERT INTO broker_secrets (name, value, created_at) VALUES (?, ?, 0)');
    for (let i = 0; i < 300; i++) insert.run(`pre-fast-era-${i}`, `${canary}-${'x'.repeat(200)}`);
    db.prepare("DELETE FROM broker_secrets WHERE name LIKE 'pre-fast-era-%'").run();
    assert.ok((db.pragma('freelist_count', { simple: true }) as number) > 0, 'the deleted rows left freelist pages');
  } finally {
    db.close();
  }
  return canary;
}

function pragmaOf(data: string, name: string): unknown {
  const db = new Database(join(data, 'mandate.db'), { readonly: true });
  try {
    return db.pragma(name, { simple: true });
  } finally {
    db.close();
  }
}

/** The app in this process on `data` (faster than a `serve` process; the same start path). */
async function startInProcess(data: string, keys: Record<string, unknown>, env: Record<string, string>) {
  const config = loadConfig({ flags: { data, port: '0', logLevel: 'silent', config: configFile(keys) }, env: {} });
  return createApp(config, { env });
}

const configError = (pattern: RegExp) => (error: unknown) => error instanceof ConfigError && pattern.test(error.message);

function captureStderr() {
  const write = process.stderr.write.bind(process.stderr);
  let text = '';
  process.stderr.write = ((chunk: string | Uint8Array, ...rest: never[]) => {
    text += String(chunk);
    return write(chunk, ...rest);
  }) as typeof process.stderr.write;
  return { text: () => text, restore: () => void (process.stderr.write = write) };
}

describe('sealing on PostgreSQL', () => {
  let cluster: PostgresCluster;
  before(async () => {
    cluster = await startPostgres();
  });
  after(() => cluster?.stop());

  test('keys and secrets reach PostgreSQL sealed: no "d": in the table or a pg_dump', async () => {
    const { url } = await databaseFactory(cluster)();
    const data = join(dir, 'pg-data');
    const config = loadConfig({ flags: { data, port: '0', logLevel: 'silent', config: configFile({ encryptionKeyEnv: 'WRAP' }) }, env: { MANDATE_STORE_URL: url } });
    const app = await createApp(config, { env: { WRAP: WRAP_A } });
    await app.keys.rotate();
    await app.close();
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      const keys = await client.query<{ private_jwk: string }>('SELECT private_jwk FROM signing_keys');
      assert.equal(keys.rows.length, 2);
      for (const row of keys.rows) assert.match(row.private_jwk, /"sealed":"mse1\./);
      const secrets = await client.query<{ value: string }>('SELECT value FROM broker_secrets');
      assert.ok(secrets.rows.length >= 3 && secrets.rows.every((row) => row.value.startsWith('mse1.')));
    } finally {
      await client.end();
    }
    const dump = spawnSync('pg_dump', ['--data-only', url], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(dump.status, 0, dump.stderr);
    assert.match(dump.stdout, /signing_keys/);
    assert.doesNotMatch(dump.stdout, /"d":/);
    assert.equal(existsSync(join(data, 'mandate.db')), false);
  });
});
