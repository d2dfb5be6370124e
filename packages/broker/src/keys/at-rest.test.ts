import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { ConfigError, loadConfig } from '../config/load.ts';
import { MandateError } from '../core/errors.ts';
import { aKey } from '../store/conformance/records.ts';
import { createSqliteStore } from '../store/sqlite/index.ts';
import { isSealed, open, parseWrappingKey, seal, type WrappingKey } from './at-rest.ts';
import { readAtRestKeys } from './at-rest-config.ts';
import { resealAtRest, sealKeyStore, sealSecretStore } from './at-rest-store.ts';

const dir = mkdtempSync(join(tmpdir(), 'mandate-at-rest-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const newKeyText = () => randomBytes(32).toString('base64url');
const newKey = (): WrappingKey => parseWrappingKey(newKeyText())!;
let stores = 0;
const store = () => createSqliteStore({ path: join(dir, `s${++stores}.db`) });

const unreadable = (pattern: RegExp) => (error: unknown) =>
  error instanceof MandateError && error.code === 'ERR_KEYS_AT_REST_UNREADABLE' && pattern.test(error.message);

test('seal then open gives the plaintext back; two seals of one value differ (random IV)', () => {
  const k = newKey();
  const a = seal(k, 'secret', 'dpop-nonce', 'hello');
  assert.ok(isSealed(a));
  assert.notEqual(a, seal(k, 'secret', 'dpop-nonce', 'hello'));
  assert.equal(open([k], 'secret', 'dpop-nonce', a), 'hello');
  assert.doesNotMatch(a, /hello/);
});

test('a sealed value moved to another row does not open (AAD = purpose and name): ERR_KEYS_AT_REST_UNREADABLE', () => {
  const k = newKey();
  const sealed = seal(k, 'secret', 'dpop-nonce', 'hello');
  assert.throws(() => open([k], 'secret', 'attest-challenge', sealed), unreadable(/altered or moved/));
  assert.throws(() => open([k], 'signing-key', 'dpop-nonce', sealed), unreadable(/altered or moved/));
});

test('a flipped ciphertext byte does not open: ERR_KEYS_AT_REST_UNREADABLE', () => {
  const k = newKey();
  const parts = seal(k, 'secret', 'n', 'hello').split('.');
  const body = Buffer.from(parts[3]!, 'base64url');
  body[0]! ^= 1;
  parts[3] = body.toString('base64url');
  assert.throws(() => open([k], 'secret', 'n', parts.join('.')), unreadable(/altered or moved/));
});

test('another wrapping key, or none, names the key ids and never key bytes: ERR_KEYS_AT_REST_UNREADABLE', () => {
  const k = newKey();
  const other = newKey();
  const sealed = seal(k, 'secret', 'n', 'hello');
  assert.throws(() => open([other], 'secret', 'n', sealed), unreadable(new RegExp(`sealed with wrapping key ${k.id}, but the configured wrapping keys are ${other.id}`)));
  assert.throws(() => open([], 'secret', 'n', sealed), unreadable(/no wrapping key is configured/));
  assert.throws(() => open([k], 'secret', 'n', 'mse1.x'), unreadable(/not a sealed value/));
});

test('wrapping keys: exactly 32 bytes of base64url', () => {
  assert.ok(newKey().id.length > 0);
  for (const bad of ['', 'short', randomBytes(31).toString('base64url'), randomBytes(33).toString('base64url'), randomBytes(32).toString('base64')])
    assert.equal(parseWrappingKey(bad), null, bad);
});

test('config: a missing or malformed key fails with the dotted path and without the value', () => {
  const keys = loadConfig({ env: {}, flags: { data: dir } }).keys;
  const on = { ...keys, encryptionKeyEnv: 'WRAP' };
  assert.throws(() => readAtRestKeys(on, {}), (e: unknown) => e instanceof ConfigError && /config error at keys\.encryptionKeyEnv: the environment variable WRAP is not set/.test(e.message));
  assert.throws(() => readAtRestKeys(on, { WRAP: 'c2VjcmV0LXZhbHVl' }), (e: unknown) => e instanceof ConfigError && /keys\.encryptionKeyEnv: WRAP must hold 32 random bytes/.test(e.message) && !e.message.includes('c2VjcmV0LXZhbHVl'));
  assert.throws(() => readAtRestKeys({ ...keys, previousEncryptionKeyEnv: 'OLD' }, {}), (e: unknown) => e instanceof ConfigError && /keys\.previousEncryptionKeyEnv/.test(e.message));
  assert.throws(() => loadConfig({ env: {}, flags: { data: dir, config: writeConfig({ keys: { encryptionKeyEnv: 'A', previousEncryptionKeyEnv: 'A' } }) } }), /keys\.previousEncryptionKeyEnv: must name another variable/);
  assert.equal(readAtRestKeys(on, { WRAP: newKeyText() }).current?.key.length, 32);
});

function writeConfig(content: unknown): string {
  const file = join(dir, `config-${++stores}.json`);
  writeFileSync(file, JSON.stringify(content));
  return file;
}

test('the wrappers seal on write and open on read, on a real SQLite store', async () => {
  const s = await store();
  const k = newKey();
  const keys = sealKeyStore(s.keys, { current: k, previous: null });
  const secrets = sealSecretStore(s.secrets, { current: k, previous: null });
  await keys.insert(aKey(1));
  assert.deepEqual(await keys.get('kid-1'), aKey(1));
  assert.deepEqual((await keys.list())[0], aKey(1));
  const raw = (await s.keys.get('kid-1'))!.privateJwk as unknown as Record<string, unknown>;
  assert.equal(raw.d, undefined);
  assert.ok(isSealed(String(raw.sealed)));
  assert.equal(await secrets.getOrCreate('n', 'fresh-value', 1), 'fresh-value');
  assert.equal(await secrets.getOrCreate('n', 'other', 2), 'fresh-value');
  assert.ok(isSealed((await s.secrets.list())[0]!.value));
  await s.close();
});

test('resealing: plaintext → sealed, previous key → current, and back to plaintext; a second run changes nothing', async () => {
  const s = await store();
  await s.keys.insert(aKey(1));
  await s.secrets.getOrCreate('n', 'plain-secret', 1);
  const k1 = newKey();
  const k2 = newKey();
  assert.deepEqual(await resealAtRest(s, { current: k1, previous: null }), { keys: 1, secrets: 1 });
  assert.deepEqual(await resealAtRest(s, { current: k1, previous: null }), { keys: 0, secrets: 0 });
  await assert.rejects(resealAtRest(s, { current: k2, previous: null }), unreadable(/sealed with wrapping key/));
  await assert.rejects(resealAtRest(s, { current: null, previous: null }), unreadable(/no wrapping key is configured/));
  assert.deepEqual(await resealAtRest(s, { current: k2, previous: k1 }), { keys: 1, secrets: 1 });
  assert.deepEqual(await sealKeyStore(s.keys, { current: k2, previous: null }).get('kid-1'), aKey(1));
  assert.equal(await sealSecretStore(s.secrets, { current: k2, previous: null }).getOrCreate('n', 'x', 2), 'plain-secret');
  assert.deepEqual(await resealAtRest(s, { current: null, previous: k2 }), { keys: 1, secrets: 1 });
  assert.deepEqual(await s.keys.get('kid-1'), aKey(1));
  assert.equal((await s.secrets.list())[0]!.value, 'plain-secret');
  await s.close();
});
