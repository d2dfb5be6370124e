import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createSqliteStore, type SqliteStore } from '../store/sqlite/index.ts';
import { cryptoRandom } from '../system.ts';
import { createChallengeService, evidenceAudience, evidenceExtraData } from './challenge.ts';

const dir = mkdtempSync(join(tmpdir(), 'mandate-challenge-'));
const key = randomBytes(32);
let now = 1_700_000_000_000;
const clock = { now: () => now };
let a: SqliteStore;
let b: SqliteStore;

before(async () => {
  a = await createSqliteStore({ path: join(dir, 'store.db') });
  b = await createSqliteStore({ path: join(dir, 'store.db') });
});
after(async () => {
  await Promise.all([a.close(), b.close()]);
  rmSync(dir, { recursive: true, force: true });
});

const service = (store: SqliteStore = a, withKey = key) => createChallengeService({ key: withKey, clock, random: cryptoRandom, replay: store.replay, ttlMs: 120_000 });

const rejects = (promise: Promise<unknown>, code: string) =>
  assert.rejects(promise, (e: { code?: string }) => e.code === code || assert.fail(`expected ${code}, got ${e.code}: ${String(e)}`));

describe('challenges', () => {
  test('issuing stores nothing; the nonce is consumed once, by any replica sharing the key', async () => {
    const { nonce, expires_in } = service(a).issueChallenge();
    assert.equal(expires_in, 120);
    assert.match(nonce, /^[A-Za-z0-9_-]{54}$/);
    await service(b).consumeChallenge(nonce);
  });

  test('a second use, on another replica → ERR_CHALLENGE_REPLAYED', async () => {
    const { nonce } = service(a).issueChallenge();
    await service(a).consumeChallenge(nonce);
    await rejects(service(b).consumeChallenge(nonce), 'ERR_CHALLENGE_REPLAYED');
  });

  test('at its expiry → ERR_CHALLENGE_EXPIRED', async () => {
    const { nonce } = service().issueChallenge();
    now += 120_000;
    await rejects(service().consumeChallenge(nonce), 'ERR_CHALLENGE_EXPIRED');
  });

  test('one character changed → ERR_CHALLENGE_INVALID', async () => {
    const { nonce } = service().issueChallenge();
    const flipped = `${nonce[0] === 'A' ? 'B' : 'A'}${nonce.slice(1)}`;
    await rejects(service().consumeChallenge(flipped), 'ERR_CHALLENGE_INVALID');
  });

  test('issued under another key → ERR_CHALLENGE_INVALID', async () => {
    const { nonce } = service(a, randomBytes(32)).issueChallenge();
    await rejects(service().consumeChallenge(nonce), 'ERR_CHALLENGE_INVALID');
  });

  test('wrong length or not a string → ERR_CHALLENGE_INVALID', async () => {
    const { nonce } = service().issueChallenge();
    await rejects(service().consumeChallenge(nonce.slice(0, 53)), 'ERR_CHALLENGE_INVALID');
    await rejects(service().consumeChallenge(42), 'ERR_CHALLENGE_INVALID');
  });

  test('a key shorter than 32 bytes is refused', () => {
    assert.throws(() => service(a, randomBytes(16)), /at least 32 bytes/);
  });
});

describe('evidence binding', () => {
  test('extraData is SHA-256(nonce ‖ jkt); the audience is mandate: + its base64url', () => {
    const expected = createHash('sha256').update('nonce-1jkt-1').digest();
    assert.deepEqual(evidenceExtraData('nonce-1', 'jkt-1'), expected);
    assert.equal(evidenceAudience('nonce-1', 'jkt-1'), `mandate:${expected.toString('base64url')}`);
  });
});
