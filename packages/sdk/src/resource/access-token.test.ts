import assert from 'node:assert/strict';
import { KeyObject, sign } from 'node:crypto';
import { before, describe, test } from 'node:test';
import type { JWTPayload } from 'jose';
import { AUDIENCE, delegatedClaims, ISSUER, makeKey, signToken, type TestKey } from '../../test/support/keys.ts';
import { verifyAccessToken } from './access-token.ts';
import { VerifierError, type VerifierErrorCode } from './errors.ts';
import { createKeySource } from './keys.ts';

// What the strict JWS fast path adds to the checks verifier.test.ts covers end to end. Keys and
// tokens are made at test time; hand-written token text is signed with node:crypto.
const NOW = Math.floor(Date.now() / 1000);
let issuerKey: TestKey;
let keys: ReturnType<typeof createKeySource>;

before(async () => {
  issuerKey = await makeKey('ES256', 'k1');
  keys = createKeySource({ keys: [issuerKey.publicJwk] }, undefined);
});

const verify = (token: string) => verifyAccessToken(token, { keys, issuer: ISSUER, audience: AUDIENCE, skewSeconds: 30, nowSeconds: NOW });
const b64 = (text: string) => Buffer.from(text).toString('base64url');

/** Signs header and payload text as given, so the text may say what JSON.stringify never writes. */
function signText(header: string, payload: string): string {
  const input = `${b64(header)}.${b64(payload)}`;
  return `${input}.${sign('sha256', Buffer.from(input), { key: KeyObject.from(issuerKey.privateKey), dsaEncoding: 'ieee-p1363' }).toString('base64url')}`;
}

async function refuses(token: string, code: VerifierErrorCode) {
  await assert.rejects(verify(token), (error: unknown) => error instanceof VerifierError && error.code === code);
}

const HEADER = JSON.stringify({ alg: 'ES256', typ: 'at+jwt', kid: 'k1' });

describe('verifyAccessToken on the strict JWS module', () => {
  test('a token signed over hand-written text verifies like one signed by jose', async () => {
    const claims = await verify(signText(HEADER, JSON.stringify(delegatedClaims(NOW, 'jkt'))));
    assert.equal(claims.iss, ISSUER);
    assert.equal((await verify(await signToken(issuerKey, 'k1', delegatedClaims(NOW, 'jkt') as JWTPayload))).aud, AUDIENCE);
  });

  test('a claim written twice, which JSON.parse would resolve to the last (ERR_TOKEN_MALFORMED)', async () => {
    const text = JSON.stringify(delegatedClaims(NOW, 'jkt'));
    await refuses(signText(HEADER, `{"aud":"https://other.example.com",${text.slice(1)}`), 'ERR_TOKEN_MALFORMED');
  });

  test('a header member written twice (ERR_TOKEN_MALFORMED)', async () => {
    await refuses(signText(`{"typ":"JWT",${HEADER.slice(1)}`, JSON.stringify(delegatedClaims(NOW, 'jkt'))), 'ERR_TOKEN_MALFORMED');
  });

  test('a crit header (ERR_TOKEN_MALFORMED)', async () => {
    await refuses(signText(JSON.stringify({ alg: 'ES256', typ: 'at+jwt', kid: 'k1', crit: ['b64'], b64: true }), JSON.stringify(delegatedClaims(NOW, 'jkt'))), 'ERR_TOKEN_MALFORMED');
  });

  test('a signature one byte short (ERR_TOKEN_SIGNATURE)', async () => {
    const token = signText(HEADER, JSON.stringify(delegatedClaims(NOW, 'jkt')));
    const [h, p, s] = token.split('.');
    await refuses(`${h}.${p}.${Buffer.from(s!, 'base64url').subarray(0, 63).toString('base64url')}`, 'ERR_TOKEN_SIGNATURE');
  });

  test('no iat (ERR_TOKEN_CLAIMS)', async () => {
    await refuses(await signToken(issuerKey, 'k1', delegatedClaims(NOW, 'jkt', { iat: undefined }) as JWTPayload), 'ERR_TOKEN_CLAIMS');
  });

  test('no exp (ERR_TOKEN_CLAIMS)', async () => {
    await refuses(await signToken(issuerKey, 'k1', delegatedClaims(NOW, 'jkt', { exp: undefined }) as JWTPayload), 'ERR_TOKEN_CLAIMS');
  });

  test('no iss (ERR_TOKEN_ISSUER)', async () => {
    await refuses(await signToken(issuerKey, 'k1', delegatedClaims(NOW, 'jkt', { iss: undefined }) as JWTPayload), 'ERR_TOKEN_ISSUER');
  });

  test('nbf that is not a number (ERR_TOKEN_NOT_YET_VALID)', async () => {
    await refuses(await signToken(issuerKey, 'k1', delegatedClaims(NOW, 'jkt', { nbf: 'now' }) as JWTPayload), 'ERR_TOKEN_NOT_YET_VALID');
  });
});
