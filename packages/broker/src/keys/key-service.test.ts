import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { createSqliteStore } from '../store/sqlite/index.ts';
import { verifyCompact } from './jws.ts';
import { thumbprint } from '../proof/jwk-thumbprint.ts';
import { createKeyService } from './key-service.ts';

const dir = mkdtempSync(join(tmpdir(), 'mandate-keys-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const MINUTE = 60_000;

async function setup(name: string) {
  const store = await createSqliteStore({ path: join(dir, `${name}.db`) });
  let now = 1_700_000_000_000;
  const clock = { now: () => now };
  const keys = createKeyService({ store: store.keys, clock, activationDelay: 2 * MINUTE, overlap: 60 * MINUTE });
  return { store, keys, advance: (ms: number) => void (now += ms) };
}

test('first start creates one ES256 key; a second start keeps it', async () => {
  const { store, keys } = await setup('first');
  assert.equal(await keys.ensureKey(), true);
  assert.equal(await keys.ensureKey(), false);
  const [only] = keys.publishedJwks().keys;
  assert.equal(keys.publishedJwks().keys.length, 1);
  assert.deepEqual(Object.keys(only!).sort(), ['alg', 'crv', 'kid', 'kty', 'use', 'x', 'y']);
  assert.equal(only!.kid, thumbprint(only!));
  await store.close();
});

test('signatures verify against the published key and name its kid', async () => {
  const { store, keys } = await setup('sign');
  await keys.ensureKey();
  const jws = keys.sign({ typ: 'at+jwt' }, { sub: 'usr_x' });
  const verified = verifyCompact(jws, (kid) => keys.verificationKey(kid));
  assert.equal(verified?.header.kid, keys.signingKey().kid);
  assert.equal(verified?.header.typ, 'at+jwt');
  assert.equal(verifyCompact(`${jws.slice(0, -4)}AAAA`, (kid) => keys.verificationKey(kid)), null);
  await store.close();
});

test('rotate publishes the new key before it signs and keeps the old one for the overlap', async () => {
  const { store, keys, advance } = await setup('rotate');
  await keys.ensureKey();
  const oldKid = keys.signingKey().kid;
  const next = await keys.rotate();
  const both = [oldKid, next.kid].sort();
  const published = () => keys.publishedJwks().keys.map((k) => k.kid).sort();

  assert.deepEqual(published(), both, 'new key published at once');
  assert.equal(keys.signingKey().kid, oldKid, 'old key still signs during the activation delay');
  advance(2 * MINUTE);
  assert.equal(keys.signingKey().kid, next.kid, 'new key signs once activated');
  advance(60 * MINUTE - 1);
  assert.deepEqual(published(), both, 'old key published until the overlap ends');
  advance(1);
  assert.deepEqual(published(), [next.kid], 'old key retired after the overlap');
  assert.ok(keys.verificationKey(oldKid), 'retired keys still verify audit heads');
  await store.close();
});

test('a rotation made by another process is seen after reload', async () => {
  const { store, keys } = await setup('reload');
  await keys.ensureKey();
  const other = createKeyService({ store: store.keys, clock: { now: () => 1_700_000_000_000 }, activationDelay: 0, overlap: MINUTE });
  await other.reload();
  const next = await other.rotate();
  assert.equal(keys.verificationKey(next.kid), null);
  await keys.reload();
  assert.ok(keys.verificationKey(next.kid));
  await store.close();
});

test('no key at all is a clear error, not a crash', async () => {
  const { store, keys } = await setup('none');
  assert.throws(() => keys.signingKey(), { code: 'ERR_KEYS_NO_SIGNING_KEY' });
  await store.close();
});
