import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { accessTokenJti } from './ids.ts';

const random = () => randomBytes(12).toString('base64url');

test('an access token jti: 12 hex digits of milliseconds, then 16 random base64url characters', () => {
  const jti = accessTokenJti(1_700_000_000_123, 'AAAAAAAAAAAAAAAA');
  assert.equal(jti, '018bcfe5687bAAAAAAAAAAAAAAAA');
  assert.match(accessTokenJti(Date.now(), random()), /^[0-9a-f]{12}[A-Za-z0-9_-]{16}$/);
});

test('a later mint sorts later byte by byte, whatever its random part (so jti-keyed indexes grow at their end)', () => {
  const times = [0, 1, 15, 16, 255, 256, 1_700_000_000_000, 1_700_000_000_001, 16 ** 12 - 1];
  const jtis = times.map((t, i) => accessTokenJti(t, i % 2 ? '________________' : '----------------'));
  assert.deepEqual([...jtis].sort(), jtis);
  assert.notEqual(accessTokenJti(5, random()), accessTokenJti(5, random()), 'the random part tells two mints of one millisecond apart');
});

test('refuses a random part of the wrong size and a time it cannot write in 12 hex digits', () => {
  assert.throws(() => accessTokenJti(1, 'short'), RangeError);
  assert.throws(() => accessTokenJti(16 ** 12, random()), RangeError);
  assert.throws(() => accessTokenJti(-1, random()), RangeError);
  assert.throws(() => accessTokenJti(1.5, random()), RangeError);
});
