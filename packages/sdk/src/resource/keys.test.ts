import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { describe, mock, test } from 'node:test';
import type { JWK } from 'jose';
import { VerifierError, type VerifierErrorCode } from './errors.ts';
import { createKeySource } from './keys.ts';

// Issuer keys made at test time; the remote JWKS is a fetch stub that counts its calls.
const jwkOf = (kid: string, extra: Partial<JWK> = {}): JWK => ({ ...generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'jwk' }), kid, ...extra });
const K1 = jwkOf('k1', { alg: 'ES256', use: 'sig' });
const K2 = jwkOf('k2');

function remote(sets: Array<{ keys: JWK[] } | Error>) {
  const calls = { count: 0 };
  const fetchStub = (async () => {
    const next = sets[Math.min(calls.count++, sets.length - 1)]!;
    if (next instanceof Error) throw next;
    return new Response(JSON.stringify(next), { status: 200, headers: { 'content-type': 'application/json' } });
  }) as typeof fetch;
  return { keys: createKeySource('https://issuer.example/jwks', fetchStub), calls };
}

/** `keysFor` throws synchronously when it can answer without I/O, so it is called inside the check. */
async function refuses(lookup: () => unknown, code: VerifierErrorCode) {
  await assert.rejects(async () => lookup(), (error: unknown) => error instanceof VerifierError && error.code === code);
}

describe('a local JWK Set', () => {
  test('each key is imported once and handed out again', async () => {
    const keys = createKeySource({ keys: [K1, K2] }, undefined);
    const [first] = await keys.keysFor('ES256', 'k1');
    const [again] = await keys.keysFor('ES256', 'k1');
    assert.equal(first, again);
    assert.equal(first!.asymmetricKeyDetails?.namedCurve, 'prime256v1');
  });

  test('without a kid every key that fits the alg is a candidate', async () => {
    assert.equal((await createKeySource({ keys: [K1, K2] }, undefined).keysFor('ES256', undefined)).length, 2);
  });

  test('a kid no key has (ERR_TOKEN_KEY_UNKNOWN)', async () => {
    await refuses(() => createKeySource({ keys: [K1] }, undefined).keysFor('ES256', 'k9'), 'ERR_TOKEN_KEY_UNKNOWN');
  });

  test('keys for another use, alg or curve are no candidates (ERR_TOKEN_KEY_UNKNOWN)', async () => {
    const keys = createKeySource({ keys: [jwkOf('enc', { use: 'enc' }), jwkOf('rs', { alg: 'ES384' }), { ...K1, kid: 'ed' }] }, undefined);
    await refuses(() => keys.keysFor('ES256', 'enc'), 'ERR_TOKEN_KEY_UNKNOWN');
    await refuses(() => keys.keysFor('ES256', 'rs'), 'ERR_TOKEN_KEY_UNKNOWN');
    await refuses(() => keys.keysFor('EdDSA', 'ed'), 'ERR_TOKEN_KEY_UNKNOWN');
  });

  test('a published private key (ERR_JWKS_UNAVAILABLE)', async () => {
    const full = { ...generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' }), kid: 'k1' } as JWK;
    await refuses(() => createKeySource({ keys: [full] }, undefined).keysFor('ES256', 'k1'), 'ERR_JWKS_UNAVAILABLE');
  });
});

describe('a remote JWKS', () => {
  test('is fetched once for many lookups, also concurrent ones', async () => {
    const { keys, calls } = remote([{ keys: [K1] }]);
    await Promise.all([keys.keysFor('ES256', 'k1'), keys.keysFor('ES256', 'k1')]);
    await keys.keysFor('ES256', 'k1');
    assert.equal(calls.count, 1);
  });

  test('an unknown kid refetches once the cooldown has passed, and finds a rotated key', async () => {
    mock.timers.enable({ apis: ['Date'], now: Date.now() });
    try {
      const { keys, calls } = remote([{ keys: [K1] }, { keys: [K1, K2] }]);
      await keys.keysFor('ES256', 'k1');
      mock.timers.tick(31_000);
      assert.equal((await keys.keysFor('ES256', 'k2')).length, 1);
      assert.equal(calls.count, 2);
    } finally {
      mock.timers.reset();
    }
  });

  test('an unknown kid within the cooldown does not refetch (ERR_TOKEN_KEY_UNKNOWN)', async () => {
    const { keys, calls } = remote([{ keys: [K1] }, { keys: [K1, K2] }]);
    await keys.keysFor('ES256', 'k1');
    await refuses(() => keys.keysFor('ES256', 'k2'), 'ERR_TOKEN_KEY_UNKNOWN');
    assert.equal(calls.count, 1);
  });

  test('an unreachable JWKS fails closed (ERR_JWKS_UNAVAILABLE)', async () => {
    const { keys } = remote([new TypeError('fetch failed')]);
    await refuses(() => keys.keysFor('ES256', 'k1'), 'ERR_JWKS_UNAVAILABLE');
  });
});
