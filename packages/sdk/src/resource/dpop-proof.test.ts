import assert from 'node:assert/strict';
import { KeyObject, sign } from 'node:crypto';
import { before, describe, test } from 'node:test';
import { ath, makeKey, PUBLIC_URL, type TestKey } from '../../test/support/keys.ts';
import { createProofVerifier, type ProofExpectations } from './dpop-proof.ts';
import { VerifierError } from './errors.ts';

// What the strict JWS fast path adds to the proof checks verifier.test.ts covers end to end. Keys
// are made at test time; proofs are hand-written text signed with node:crypto.
const NOW = Math.floor(Date.now() / 1000);
const TOKEN = 'at';
let key: TestKey;

before(async () => {
  key = await makeKey('ES256');
});

const b64 = (text: string) => Buffer.from(text).toString('base64url');
const expected: Omit<ProofExpectations, 'nowSeconds'> = { method: 'GET', htu: `${PUBLIC_URL}/items`, accessToken: TOKEN, skewSeconds: 30, maxAgeSeconds: 60, nonces: undefined };

function proofText(header: string, payload: string): string {
  const input = `${b64(header)}.${b64(payload)}`;
  return `${input}.${sign('sha256', Buffer.from(input), { key: KeyObject.from(key.privateKey), dsaEncoding: 'ieee-p1363' }).toString('base64url')}`;
}

const header = (extra = {}) => JSON.stringify({ typ: 'dpop+jwt', alg: 'ES256', jwk: key.publicJwk, ...extra });
const payload = (jti: string) => JSON.stringify({ jti, htm: 'GET', htu: `${PUBLIC_URL}/items`, iat: NOW, ath: ath(TOKEN) });

describe('createProofVerifier on the strict JWS module', () => {
  test('proofs of one key under differently written headers give one thumbprint', async () => {
    const verifyProof = createProofVerifier();
    const first = await verifyProof([proofText(header(), payload('a'))], { ...expected, nowSeconds: NOW });
    const second = await verifyProof([proofText(header({ kid: 'x' }), payload('b'))], { ...expected, nowSeconds: NOW });
    assert.equal(first.jkt, key.jkt);
    assert.equal(second.jkt, key.jkt);
  });

  test('a claim written twice (ERR_DPOP_MALFORMED)', async () => {
    const doubled = `{"htm":"POST",${payload('c').slice(1)}`;
    await assert.rejects(createProofVerifier()([proofText(header(), doubled)], { ...expected, nowSeconds: NOW }), (error: unknown) => error instanceof VerifierError && error.code === 'ERR_DPOP_MALFORMED');
  });

  test('a jwk without its y coordinate (ERR_DPOP_JWK)', async () => {
    const { y: _y, ...flat } = key.publicJwk;
    const proof = proofText(JSON.stringify({ typ: 'dpop+jwt', alg: 'ES256', jwk: flat }), payload('d'));
    await assert.rejects(createProofVerifier()([proof], { ...expected, nowSeconds: NOW }), (error: unknown) => error instanceof VerifierError && error.code === 'ERR_DPOP_JWK');
  });
});
