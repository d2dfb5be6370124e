import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MandateError } from '../core/errors.ts';
import type { ReplayCache } from '../ports/replay-cache.ts';
import { createWebauthnNonces, decisionChallenge, signedChallenge } from './webauthn-challenge.ts';

/** An in-memory replay cache with the port's semantics, for a pure unit test. */
function memoryReplay(): ReplayCache {
  const seen = new Map<string, number>();
  return {
    async checkAndInsert(namespace, id, expiresAt, now) {
      const key = `${namespace}\0${id}`;
      if ((seen.get(key) ?? 0) > now) return false;
      seen.set(key, expiresAt);
      return true;
    },
    seen: async () => false, purgeExpired: async () => 0,
  };
}

function setup() {
  let now = 1_800_000_000_000;
  let n = 0;
  const nonces = createWebauthnNonces({
    key: Buffer.alloc(32, 7), clock: { now: () => now }, random: { base64url: (bytes) => Buffer.alloc(bytes, ++n).toString('base64url') },
    replay: memoryReplay(), ttlMs: 60_000,
  });
  return { nonces, advance: (ms: number) => void (now += ms) };
}

const code = (expected: string) => (error: unknown) => error instanceof MandateError && error.code === expected;

test('a nonce is spent once, for its purpose and binding only', async () => {
  const { nonces } = setup();
  const nonce = nonces.issue('approve', 'session\0mdt_1');
  await assert.rejects(nonces.spend(nonce, 'approve', 'session\0mdt_2'), code('ERR_PASSKEY_CHALLENGE_INVALID'));
  await assert.rejects(nonces.spend(nonce, 'resume', 'session\0mdt_1'), code('ERR_PASSKEY_CHALLENGE_INVALID'));
  await nonces.spend(nonce, 'approve', 'session\0mdt_1');
  await assert.rejects(nonces.spend(nonce, 'approve', 'session\0mdt_1'), code('ERR_PASSKEY_CHALLENGE_REPLAYED'));
});

test('an expired or malformed nonce is refused', async () => {
  const { nonces, advance } = setup();
  const nonce = nonces.issue('signin', '');
  advance(60_000);
  await assert.rejects(nonces.spend(nonce, 'signin', ''), code('ERR_PASSKEY_CHALLENGE_EXPIRED'));
  await assert.rejects(nonces.spend('not a nonce!', 'signin', ''), code('ERR_PASSKEY_CHALLENGE_INVALID'));
  await assert.rejects(nonces.spend(`${nonce}AA`, 'signin', ''), code('ERR_PASSKEY_CHALLENGE_INVALID'));
});

test('the decision challenge changes with the task digest, the mandate, the decision and the nonce', () => {
  const base = decisionChallenge('digest', 'mdt_1', 'approve', 'nonce');
  assert.match(base, /^[A-Za-z0-9_-]{43}$/);
  assert.equal(decisionChallenge('digest', 'mdt_1', 'approve', 'nonce'), base);
  for (const other of [
    decisionChallenge('digest2', 'mdt_1', 'approve', 'nonce'), decisionChallenge('digest', 'mdt_2', 'approve', 'nonce'),
    decisionChallenge('digest', 'mdt_1', 'resume', 'nonce'), decisionChallenge('digest', 'mdt_1', 'approve', 'nonce2'),
    // NUL separators: moving a character across a field boundary changes the challenge.
    decisionChallenge('digestm', 'dt_1', 'approve', 'nonce'),
  ]) assert.notEqual(other, base);
});

test('signedChallenge reads clientDataJSON and tolerates garbage', () => {
  const clientData = Buffer.from(JSON.stringify({ type: 'webauthn.get', challenge: 'abc' })).toString('base64url');
  assert.equal(signedChallenge(clientData), 'abc');
  assert.equal(signedChallenge('%%%'), null);
  assert.equal(signedChallenge(undefined), null);
});
