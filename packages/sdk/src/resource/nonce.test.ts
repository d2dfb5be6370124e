import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import type { JWTPayload } from 'jose';
import { AUDIENCE, delegatedClaims, dpopRequest, ISSUER, makeKey, PUBLIC_URL, signToken, type TestKey } from '../../test/support/keys.ts';
import { VerifierError } from './errors.ts';
import { createVerifier } from './verifier.ts';

const NOW = 1_800_000_010;
let issuerKey: TestKey;
let dpop: TestKey;
let clock = NOW;

before(async () => {
  [issuerKey, dpop] = await Promise.all([makeKey('ES256', 'k1'), makeKey('ES256')]);
});

const verifier = (secret = 's3cret') =>
  createVerifier({ issuer: ISSUER, audience: AUDIENCE, jwks: { keys: [issuerKey.publicJwk] }, publicUrl: PUBLIC_URL, requireNonce: true, nonceSecret: secret, nonceSlotSeconds: 60, now: () => clock * 1000 });

const token = () => signToken(issuerKey, 'k1', delegatedClaims(clock, dpop.jkt) as JWTPayload);

test('requireNonce: a proof without a nonce gets use_dpop_nonce with a DPoP-Nonce header', async () => {
  clock = NOW;
  const error = await verifier().verifyRequest(await dpopRequest(dpop, await token(), clock)).catch((e: VerifierError) => e);
  assert.ok(error instanceof VerifierError);
  assert.equal(error.code, 'ERR_DPOP_NONCE');
  assert.equal(error.status, 401);
  assert.match(error.wwwAuthenticate!, /^DPoP error="use_dpop_nonce", error_description="[^"]+", algs="ES256 EdDSA"$/);
  assert.equal(error.headers['DPoP-Nonce'], error.dpopNonce);
  assert.ok(error.dpopNonce);
});

test('requireNonce: the nonce of any instance sharing the secret is accepted, now and in the next slot', async () => {
  clock = NOW;
  const nonce = await verifier().nonce();
  await verifier().verifyRequest(await dpopRequest(dpop, await token(), clock, { claims: { nonce } }));
  clock = NOW + 60;
  await verifier().verifyRequest(await dpopRequest(dpop, await token(), clock, { claims: { nonce } }));
});

test('requireNonce: a nonce two slots old, or from another secret, is refused', async () => {
  clock = NOW;
  const nonce = await verifier().nonce();
  const foreign = await verifier('other').nonce();
  const v = verifier();
  await assert.rejects(v.verifyRequest(await dpopRequest(dpop, await token(), clock, { claims: { nonce: foreign } })), { code: 'ERR_DPOP_NONCE' });
  clock = NOW + 120;
  await assert.rejects(v.verifyRequest(await dpopRequest(dpop, await token(), clock, { claims: { nonce } })), { code: 'ERR_DPOP_NONCE' });
});
