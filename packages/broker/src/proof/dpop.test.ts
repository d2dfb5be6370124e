import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose';
import { createSqliteStore, type SqliteStore } from '../store/sqlite/index.ts';
import { createDpopVerifier } from './dpop.ts';
import { createDpopNonces } from './nonce.ts';
import { createHeldIds } from './single-use.ts';

const URL_TOKEN = 'http://localhost:7420/token';
const dir = mkdtempSync(join(tmpdir(), 'mandate-dpop-'));
let store: SqliteStore;
let now = 1_700_000_000_000;
const clock = { now: () => now };
const nonces = createDpopNonces(Buffer.alloc(32, 7), clock, 300);
let keys: { privateKey: CryptoKey; jwk: JWK };
let jtiCounter = 0;

before(async () => {
  store = await createSqliteStore({ path: join(dir, 'dpop.db') });
  const pair = await generateKeyPair('ES256');
  keys = { privateKey: pair.privateKey, jwk: await exportJWK(pair.publicKey) };
});
after(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

const verifier = (requireNonce = false) =>
  createDpopVerifier({ replay: store.replay, clock, nonces, requireNonce, iatWindowSeconds: 60 });

interface ProofOptions {
  header?: Record<string, unknown>;
  claims?: Record<string, unknown>;
  alg?: string;
  key?: CryptoKey;
}

async function proof(options: ProofOptions = {}): Promise<string> {
  const claims = { jti: `jti-${++jtiCounter}`, htm: 'POST', htu: URL_TOKEN, iat: Math.floor(now / 1000), ...options.claims };
  for (const [k, v] of Object.entries(claims)) if (v === undefined) delete (claims as Record<string, unknown>)[k];
  return new SignJWT(claims)
    .setProtectedHeader({ alg: options.alg ?? 'ES256', typ: 'dpop+jwt', jwk: keys.jwk, ...options.header } as never)
    .sign(options.key ?? keys.privateKey);
}

const check = (p: string | string[], extra: { method?: string; url?: string; accessToken?: string; requireNonce?: boolean } = {}) =>
  verifier(extra.requireNonce)({
    headerValues: Array.isArray(p) ? p : [p],
    method: extra.method ?? 'POST',
    url: extra.url ?? URL_TOKEN,
    ...(extra.accessToken !== undefined ? { accessToken: extra.accessToken } : {}),
  });

const rejects = (promise: Promise<unknown>, code: string) => assert.rejects(promise, (e: { code?: string }) => e.code === code || assert.fail(`expected ${code}, got ${e.code}: ${String(e)}`));

describe('accepted proofs', () => {
  test('a fresh ES256 proof yields the RFC 7638 thumbprint', async () => {
    const result = await check(await proof());
    const expected = createHash('sha256').update(JSON.stringify({ crv: keys.jwk.crv, kty: 'EC', x: keys.jwk.x, y: keys.jwk.y })).digest('base64url');
    assert.equal(result.jkt, expected);
  });

  test('an Ed25519 proof', async () => {
    const pair = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
    const jwk = await exportJWK(pair.publicKey);
    const p = await new SignJWT({ jti: 'ed-1', htm: 'POST', htu: URL_TOKEN, iat: Math.floor(now / 1000) })
      .setProtectedHeader({ alg: 'EdDSA', typ: 'dpop+jwt', jwk })
      .sign(pair.privateKey);
    assert.equal((await check(p)).jwk.kty, 'OKP');
  });

  test('htu differing only by scheme/host case and default port, or by query, still matches', async () => {
    await check(await proof({ claims: { htu: 'HTTP://LOCALHOST:7420/token?x=1#f' } }));
    await check(await proof({ claims: { htu: 'https://id.example.com:443/token' } }), { url: 'https://id.example.com/token' });
  });

  test('a current nonce is accepted when nonces are required', async () => {
    await check(await proof({ claims: { nonce: nonces.current() } }), { requireNonce: true });
  });
});

describe('one rejection per check', () => {
  test('no proof', async () => rejects(check([]), 'ERR_DPOP_MISSING'));
  test('two DPoP headers', async () => rejects(check([await proof(), await proof()]), 'ERR_DPOP_MALFORMED'));
  test('not a JWS', async () => rejects(check('abc.def'), 'ERR_DPOP_MALFORMED'));
  test('typ is not dpop+jwt', async () => rejects(check(await proof({ header: { typ: 'JWT' } })), 'ERR_DPOP_TYP'));
  test('alg none', async () => {
    const [h, p] = (await proof()).split('.');
    const header = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(h!, 'base64url').toString()), alg: 'none' })).toString('base64url');
    await rejects(check(`${header}.${p}.AAAA`), 'ERR_DPOP_ALG');
  });
  test('HS256 is not on the allow-list', async () => {
    const secret = new TextEncoder().encode('k'.repeat(32));
    const p = await new SignJWT({ jti: 'hs', htm: 'POST', htu: URL_TOKEN, iat: Math.floor(now / 1000) })
      .setProtectedHeader({ alg: 'HS256', typ: 'dpop+jwt', jwk: keys.jwk })
      .sign(secret);
    await rejects(check(p), 'ERR_DPOP_ALG');
  });
  test('no jwk header', async () => rejects(check(await proof({ header: { jwk: undefined } })), 'ERR_DPOP_JWK'));
  test('private key material in the jwk', async () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const full = privateKey.export({ format: 'jwk' });
    await rejects(check(await proof({ header: { jwk: full } })), 'ERR_DPOP_JWK');
  });
  test('jwk of another key than the signer', async () => {
    const other = await generateKeyPair('ES256');
    await rejects(check(await proof({ key: other.privateKey })), 'ERR_DPOP_SIGNATURE');
  });
  test('missing jti', async () => rejects(check(await proof({ claims: { jti: undefined } })), 'ERR_DPOP_JTI'));
  test('a jti with a control character', async () => rejects(check(await proof({ claims: { jti: 'a\nb' } })), 'ERR_DPOP_JTI'));
  test('wrong htm', async () => rejects(check(await proof({ claims: { htm: 'GET' } })), 'ERR_DPOP_HTM'));
  test('wrong htu path', async () => rejects(check(await proof({ claims: { htu: 'http://localhost:7420/introspect' } })), 'ERR_DPOP_HTU'));
  test('trailing slash is another URI', async () => rejects(check(await proof({ claims: { htu: 'http://localhost:7420/token/' } })), 'ERR_DPOP_HTU'));
  test('another port', async () => rejects(check(await proof({ claims: { htu: 'http://localhost:7421/token' } })), 'ERR_DPOP_HTU'));
  test('stale iat', async () => rejects(check(await proof({ claims: { iat: Math.floor(now / 1000) - 61 } })), 'ERR_DPOP_IAT'));
  test('future iat', async () => rejects(check(await proof({ claims: { iat: Math.floor(now / 1000) + 61 } })), 'ERR_DPOP_IAT'));
  test('replayed jti', async () => {
    const p = await proof();
    await check(p);
    await rejects(check(p), 'ERR_DPOP_REPLAY');
  });
  test('with the request holding its ids back: the jti is handed over, not recorded; recording it later makes the proof a replay', async () => {
    const p = await proof();
    const held = createHeldIds(store.replay);
    const verified = await verifier()({ headerValues: [p], method: 'POST', url: URL_TOKEN, held });
    const expiresAt = (verified.iat + 60 + 1) * 1000;
    assert.deepEqual(held.pending(), [{ namespace: 'dpop', id: `${verified.jkt}:${verified.jti}`, expiresAt, code: 'ERR_DPOP_REPLAY', message: 'jti was already used' }]);
    await held.recordNow(now);
    assert.deepEqual(held.pending(), []);
    await rejects(check(p), 'ERR_DPOP_REPLAY');
  });
  test('missing ath when an access token is presented', async () => rejects(check(await proof(), { accessToken: 'tok' }), 'ERR_DPOP_ATH'));
  test('wrong ath', async () => rejects(check(await proof({ claims: { ath: 'x' } }), { accessToken: 'tok' }), 'ERR_DPOP_ATH'));
  test('missing nonce when required', async () => rejects(check(await proof(), { requireNonce: true }), 'ERR_DPOP_NONCE_REQUIRED'));
  test('nonce from two slots ago', async () => {
    const old = nonces.current();
    now += 600_000;
    try {
      await rejects(check(await proof({ claims: { nonce: old } }), { requireNonce: true }), 'ERR_DPOP_NONCE_INVALID');
    } finally {
      now -= 600_000;
    }
  });
  test('forged nonce', async () => rejects(check(await proof({ claims: { nonce: 'AAAAAAAAAAAAAAAAAAAAAAAAAAAA' } }), { requireNonce: true }), 'ERR_DPOP_NONCE_INVALID'));
  test('crit header (signed by hand: jose refuses unknown crit)', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const enc = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
    const input = `${enc({ alg: 'ES256', typ: 'dpop+jwt', jwk: publicKey.export({ format: 'jwk' }), crit: ['x'], x: 1 })}.${enc({ jti: 'crit', htm: 'POST', htu: URL_TOKEN, iat: Math.floor(now / 1000) })}`;
    const sig = sign('sha256', Buffer.from(input), { key: privateKey, dsaEncoding: 'ieee-p1363' }).toString('base64url');
    await rejects(check(`${input}.${sig}`), 'ERR_DPOP_MALFORMED');
  });
});
