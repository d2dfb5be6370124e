import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import type { JWTPayload } from 'jose';
import { AUDIENCE, delegatedClaims, dpopRequest, ISSUER, makeKey, PUBLIC_URL, signToken, type TestKey } from '../../test/support/keys.ts';
import { createVerifier } from './verifier.ts';

const NOW = 1_800_000_000;
let issuerKey: TestKey;
let dpop: TestKey;

before(async () => {
  [issuerKey, dpop] = await Promise.all([makeKey('ES256', 'k1'), makeKey('ES256')]);
});

/** A stand-in introspection endpoint: counts calls, checks the RS credential, answers `active`. */
function introspectionStub(answer: () => boolean | Error) {
  const calls: Array<{ authorization: string | null; body: string }> = [];
  const fetchStub = (async (_url: string | URL | Request, init?: RequestInit) => {
    const headers = new Headers(init?.headers);
    calls.push({ authorization: headers.get('authorization'), body: String(init?.body) });
    const result = answer();
    if (result instanceof Error) throw result;
    return Response.json(result ? { active: true, token_type: 'DPoP', aud: AUDIENCE } : { active: false });
  }) as typeof fetch;
  return { calls, fetchStub };
}

function verifier(fetchStub: typeof fetch, now: () => number, cacheTtlSeconds = 60) {
  return createVerifier({
    issuer: ISSUER, audience: AUDIENCE, jwks: { keys: [issuerKey.publicJwk] }, publicUrl: PUBLIC_URL, now, fetch: fetchStub,
    introspection: { endpoint: `${ISSUER}/introspect`, clientId: AUDIENCE, clientSecret: 'rs secret', cacheTtlSeconds },
  });
}

test('introspection active:false rejects the token as revoked, with the RS credential in HTTP Basic', async () => {
  const { calls, fetchStub } = introspectionStub(() => false);
  const token = await signToken(issuerKey, 'k1', delegatedClaims(NOW, dpop.jkt) as JWTPayload);
  await assert.rejects(verifier(fetchStub, () => NOW * 1000).verifyRequest(await dpopRequest(dpop, token, NOW)), { code: 'ERR_TOKEN_REVOKED', status: 401 });
  const expected = `Basic ${btoa(`${encodeURIComponent(AUDIENCE)}:rs+secret`)}`;
  assert.equal(calls[0]!.authorization, expected);
  assert.equal(new URLSearchParams(calls[0]!.body).get('token'), token);
});

test('active:true is cached for at most cacheTtlSeconds: a revocation is seen after the TTL', async () => {
  let active = true;
  const { calls, fetchStub } = introspectionStub(() => active);
  let clock = NOW;
  const v = verifier(fetchStub, () => clock * 1000, 10);
  const token = await signToken(issuerKey, 'k1', delegatedClaims(NOW, dpop.jkt) as JWTPayload);
  await v.verifyRequest(await dpopRequest(dpop, token, clock));
  active = false;
  clock = NOW + 9;
  await v.verifyRequest(await dpopRequest(dpop, token, clock));
  assert.equal(calls.length, 1, 'within the TTL the cached answer is used');
  clock = NOW + 10;
  await assert.rejects(v.verifyRequest(await dpopRequest(dpop, token, clock)), { code: 'ERR_TOKEN_REVOKED' });
  assert.equal(calls.length, 2);
});

test('active:true is never cached past the token exp, even inside the clock skew', async () => {
  const { calls, fetchStub } = introspectionStub(() => true);
  let clock = NOW;
  const v = verifier(fetchStub, () => clock * 1000, 60);
  const token = await signToken(issuerKey, 'k1', delegatedClaims(NOW, dpop.jkt, { exp: NOW + 10 }) as JWTPayload);
  await v.verifyRequest(await dpopRequest(dpop, token, clock));
  clock = NOW + 5;
  await v.verifyRequest(await dpopRequest(dpop, token, clock));
  assert.equal(calls.length, 1);
  clock = NOW + 15; // past exp, still accepted by the 30 s skew: the cache must not answer
  await v.verifyRequest(await dpopRequest(dpop, token, clock));
  assert.equal(calls.length, 2);
});

test('an unreachable introspection endpoint fails closed with 503', async () => {
  const { fetchStub } = introspectionStub(() => new TypeError('fetch failed'));
  const token = await signToken(issuerKey, 'k1', delegatedClaims(NOW, dpop.jkt) as JWTPayload);
  const error = await verifier(fetchStub, () => NOW * 1000).verifyRequest(await dpopRequest(dpop, token, NOW)).catch((e) => e);
  assert.equal(error.code, 'ERR_INTROSPECTION_UNAVAILABLE');
  assert.equal(error.status, 503);
  assert.equal(error.wwwAuthenticate, undefined);
});
