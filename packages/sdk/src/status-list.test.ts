import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { describe, test } from 'node:test';
import { SignJWT, type JWK } from 'jose';
import { VerifierError, type VerifierErrorCode } from './resource/errors.ts';
import { createStatusListChecker, decodeStatusList, encodeStatusList, statusBit } from './status-list.ts';

const ISSUER = 'https://broker.example';
const URI = `${ISSUER}/statuslists/1`;
const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const JWKS = { keys: [{ ...(publicKey.export({ format: 'jwk' }) as JWK), kid: 'k1' }] };
const NOW = 1_700_000_000_000;

const listJwt = (revoked: number[], claims: Record<string, unknown> = {}, typ = 'statuslist+jwt') =>
  new SignJWT({ sub: URI, iss: ISSUER, ttl: 60, status_list: { bits: 1, lst: encodeStatusList(revoked, 1024) }, ...claims })
    .setProtectedHeader({ alg: 'ES256', typ, kid: 'k1' })
    .setIssuedAt(NOW / 1000)
    .sign(privateKey);

/** A fetch stub serving `bodies` in turn; counts calls. */
function served(bodies: Array<() => Promise<string>>, headers: Record<string, string> = { 'cache-control': 'public, max-age=60' }) {
  const calls = { count: 0 };
  const fetchStub = (async () => new Response(await bodies[Math.min(calls.count++, bodies.length - 1)]!(), { status: 200, headers })) as typeof fetch;
  return { fetchStub, calls };
}

const claimsAt = (idx: number, uri = URI) => ({ status: { status_list: { idx, uri } } });

async function refuses(work: Promise<unknown>, code: VerifierErrorCode) {
  await assert.rejects(work, (error: unknown) => error instanceof VerifierError && error.code === code);
}

describe('the list codec', () => {
  test('bits are least significant first (§4.1) and round-trip through ZLIB', () => {
    const bytes = decodeStatusList(encodeStatusList([0, 9, 1023], 1024));
    assert.equal(bytes.length, 128);
    assert.equal(bytes[0], 0b0000_0001);
    assert.equal(bytes[1], 0b0000_0010);
    assert.deepEqual([0, 1, 9, 10, 1023].map((i) => statusBit(bytes, i)), [1, 0, 1, 0, 1]);
    assert.equal(statusBit(bytes, 5000), 0, 'beyond the list');
  });

  test('an index outside the list and a non-base64url lst are errors', () => {
    assert.throws(() => encodeStatusList([1024], 1024), RangeError);
    assert.throws(() => decodeStatusList('not base64url!'), TypeError);
  });
});

describe('the checker', () => {
  test('a set bit is ERR_TOKEN_REVOKED, a clear one passes, and the list is fetched once per cache lifetime', async () => {
    let now = NOW;
    const { fetchStub, calls } = served([() => listJwt([3])]);
    const checker = createStatusListChecker({ issuer: ISSUER, jwks: JWKS, fetch: fetchStub, now: () => now, maxCacheSeconds: 5 });
    await checker.check(claimsAt(2));
    await refuses(checker.check(claimsAt(3)), 'ERR_TOKEN_REVOKED');
    assert.equal(calls.count, 1);
    now += 5_001;
    await checker.check(claimsAt(2));
    assert.equal(calls.count, 2, 'refetched after maxCacheSeconds');
  });

  test('max-age bounds the cache when shorter than ttl', async () => {
    let now = NOW;
    const { fetchStub, calls } = served([() => listJwt([])], { 'cache-control': 'max-age=1' });
    const checker = createStatusListChecker({ issuer: ISSUER, jwks: JWKS, fetch: fetchStub, now: () => now });
    await checker.check(claimsAt(1));
    now += 1_001;
    await checker.check(claimsAt(1));
    assert.equal(calls.count, 2);
  });

  test("a list's lifetime counts from when its fetch was sent, not from when it arrived", async () => {
    let now = NOW;
    const { fetchStub, calls } = served([async () => { now += 400; return listJwt([]); }], { 'cache-control': 'max-age=1' });
    const checker = createStatusListChecker({ issuer: ISSUER, jwks: JWKS, fetch: fetchStub, now: () => now, refreshAheadFraction: 0 });
    await checker.check(claimsAt(1));
    now = NOW + 999;
    await checker.check(claimsAt(1));
    assert.equal(calls.count, 1);
    now = NOW + 1_000;
    await checker.check(claimsAt(1));
    assert.equal(calls.count, 2, 'expired 1 s after the request, though it arrived 0.4 s later');
  });

  test('in the last fifth of its lifetime a check uses the cached list and refreshes it in the background', async () => {
    let now = NOW;
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const { fetchStub, calls } = served([() => listJwt([]), async () => { await gate; return listJwt([2]); }]);
    const checker = createStatusListChecker({ issuer: ISSUER, jwks: JWKS, fetch: fetchStub, now: () => now, maxCacheSeconds: 5 });
    await checker.check(claimsAt(2));
    now += 3_900;
    await checker.check(claimsAt(2));
    assert.equal(calls.count, 1, 'no refresh before the last fifth');
    now += 200;
    await checker.check(claimsAt(2));
    await checker.check(claimsAt(2));
    assert.equal(calls.count, 2, 'one background fetch, and the checks did not wait for it');
    release();
    await new Promise((resolve) => setTimeout(resolve, 50));
    await refuses(checker.check(claimsAt(2)), 'ERR_TOKEN_REVOKED');
    assert.equal(calls.count, 2);
  });

  test('a failed background refresh fails no check and is not retried before expiry; after expiry the check fails closed', async () => {
    let now = NOW;
    const { fetchStub, calls } = served([() => listJwt([]), () => Promise.reject(new Error('down'))]);
    const checker = createStatusListChecker({ issuer: ISSUER, jwks: JWKS, fetch: fetchStub, now: () => now, maxCacheSeconds: 5 });
    await checker.check(claimsAt(2));
    now += 4_100;
    await checker.check(claimsAt(2));
    await new Promise((resolve) => setTimeout(resolve, 20));
    now += 100;
    await checker.check(claimsAt(2));
    assert.equal(calls.count, 2, 'one background attempt only');
    now = NOW + 5_000;
    await refuses(checker.check(claimsAt(2)), 'ERR_STATUS_LIST_UNAVAILABLE');
    assert.equal(calls.count, 3);
  });

  test('a token without a reference is refused unless the reference is optional', async () => {
    const { fetchStub } = served([() => listJwt([])]);
    await refuses(createStatusListChecker({ issuer: ISSUER, jwks: JWKS, fetch: fetchStub }).check({}), 'ERR_TOKEN_CLAIMS');
    await createStatusListChecker({ issuer: ISSUER, jwks: JWKS, fetch: fetchStub, required: false }).check({});
  });

  test('a list URI outside the issuer is never fetched (ERR_TOKEN_CLAIMS)', async () => {
    const { fetchStub, calls } = served([() => listJwt([])]);
    await refuses(createStatusListChecker({ issuer: ISSUER, jwks: JWKS, fetch: fetchStub }).check(claimsAt(1, 'https://evil.example/statuslists/1')), 'ERR_TOKEN_CLAIMS');
    assert.equal(calls.count, 0);
  });

  const invalid: Array<[string, () => Promise<string>]> = [
    ['wrong typ', () => listJwt([], {}, 'JWT')],
    ['another sub', () => listJwt([], { sub: `${ISSUER}/statuslists/2` })],
    ['another iss', () => listJwt([], { iss: 'https://other.example' })],
    ['expired', () => listJwt([], { exp: NOW / 1000 - 3600 })],
    ['bits 2', () => listJwt([], { status_list: { bits: 2, lst: encodeStatusList([], 8) } })],
    ['another key', () => new SignJWT({ sub: URI, iss: ISSUER }).setProtectedHeader({ alg: 'ES256', typ: 'statuslist+jwt', kid: 'k1' }).sign(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey)],
  ];
  for (const [name, body] of invalid) {
    test(`a list with ${name} fails closed (ERR_STATUS_LIST_UNAVAILABLE)`, async () => {
      const { fetchStub } = served([body]);
      await refuses(createStatusListChecker({ issuer: ISSUER, jwks: JWKS, fetch: fetchStub, now: () => NOW }).check(claimsAt(1)), 'ERR_STATUS_LIST_UNAVAILABLE');
    });
  }

  test('an unreachable list fails closed (ERR_STATUS_LIST_UNAVAILABLE)', async () => {
    const down = (async () => {
      throw new TypeError('fetch failed');
    }) as typeof fetch;
    await refuses(createStatusListChecker({ issuer: ISSUER, jwks: JWKS, fetch: down }).check(claimsAt(1)), 'ERR_STATUS_LIST_UNAVAILABLE');
  });
});
