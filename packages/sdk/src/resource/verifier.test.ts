import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { base64url, SignJWT, type JWTPayload } from 'jose';
import { AGENT, AUDIENCE, delegatedClaims, HUMAN, ISSUER, makeKey, PUBLIC_URL, signProof, signToken, type ProofInput, type TestKey } from '../../test/support/keys.ts';
import { VerifierError, type VerifierErrorCode } from './errors.ts';
import type { VerifierOptions } from './options.ts';
import { createVerifier, type RequestParts } from './verifier.ts';

const NOW = Math.floor(Date.now() / 1000);
let issuerKey: TestKey;
let otherIssuerKey: TestKey;
let dpop: TestKey;
let otherDpop: TestKey;
let jwks: { keys: object[] };

before(async () => {
  [issuerKey, otherIssuerKey, dpop, otherDpop] = await Promise.all([makeKey('ES256', 'k1'), makeKey('ES256', 'k2'), makeKey('ES256'), makeKey('EdDSA')]);
  jwks = { keys: [issuerKey.publicJwk] };
});

function verifier(options: Partial<VerifierOptions> = {}, nowSeconds = NOW) {
  return createVerifier({ issuer: ISSUER, audience: AUDIENCE, jwks: jwks as VerifierOptions['jwks'], publicUrl: PUBLIC_URL, now: () => nowSeconds * 1000, ...options });
}

async function token(overrides: Record<string, unknown> = {}, header: Record<string, unknown> = {}) {
  return signToken(issuerKey, 'k1', delegatedClaims(NOW, dpop.jkt, overrides) as JWTPayload, header);
}

/** A request with a valid token and proof, unless parts are overridden. */
async function request(options: { token?: string; proof?: Partial<ProofInput> | string | null; scheme?: string; method?: string; url?: string } = {}): Promise<RequestParts> {
  const accessToken = options.token ?? (await token());
  const headers: Record<string, string> = { authorization: `${options.scheme ?? 'DPoP'} ${accessToken}` };
  if (typeof options.proof === 'string') headers.dpop = options.proof;
  else if (options.proof !== null) headers.dpop = await signProof(dpop, { iat: NOW, token: accessToken, ...options.proof });
  return { method: options.method ?? 'GET', url: options.url ?? '/items', headers };
}

async function rejects(promise: Promise<unknown>, code: VerifierErrorCode, status = 401) {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof VerifierError, `expected VerifierError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    assert.equal(error.status, status);
    return true;
  });
}

describe('createVerifier: accepted requests', () => {
  test('a delegated token with a matching proof yields claims, task, agent and subject', async () => {
    const result = await verifier().verifyRequest(await request());
    assert.equal(result.agentId, AGENT);
    assert.equal(result.subject, HUMAN);
    assert.equal(result.autonomous, false);
    assert.deepEqual(result.task.actions, ['issues:read', 'issues:comment']);
    assert.equal(result.jkt, dpop.jkt);
  });

  test('typ application/at+jwt, a WHATWG Headers object and an EdDSA proof key are accepted', async () => {
    const accessToken = await signToken(issuerKey, 'k1', delegatedClaims(NOW, otherDpop.jkt) as JWTPayload, { typ: 'application/at+jwt' });
    const headers = new Headers({ authorization: `DPoP ${accessToken}`, dpop: await signProof(otherDpop, { iat: NOW, token: accessToken }) });
    const result = await verifier().verifyRequest({ method: 'GET', url: '/items', headers });
    assert.equal(result.jkt, otherDpop.jkt);
  });

  test('htu ignores query and fragment, host case and default port; the request host is never used', async () => {
    const req = await request({ url: 'http://evil.example/items?page=2', proof: { htu: 'https://API.example.com:443/items?other=1#x' } });
    await verifier().verifyRequest(req);
  });

  test('an expired token is still accepted within the clock skew', async () => {
    await verifier().verifyRequest(await request({ token: await token({ exp: NOW - 10 }) }));
  });
});

describe('createVerifier: access token rejections', () => {
  test('no Authorization header: 401 without an error code (RFC 6750 §3.1)', async () => {
    const promise = verifier().verifyRequest({ method: 'GET', url: '/items', headers: {} });
    await rejects(promise, 'ERR_TOKEN_MISSING');
    const error = (await promise.catch((e: unknown) => e)) as VerifierError;
    assert.equal(error.wwwAuthenticate, 'DPoP algs="ES256 EdDSA"');
  });

  test('alg none', async () => {
    const encode = (value: object) => base64url.encode(JSON.stringify(value));
    const unsigned = `${encode({ alg: 'none', typ: 'at+jwt' })}.${encode(delegatedClaims(NOW, dpop.jkt))}.`;
    await rejects(verifier().verifyRequest(await request({ token: unsigned })), 'ERR_TOKEN_ALG');
  });

  test('HS256 signed with the public key as the secret', async () => {
    const secret = new TextEncoder().encode(JSON.stringify(issuerKey.publicJwk));
    const forged = await new SignJWT(delegatedClaims(NOW, dpop.jkt)).setProtectedHeader({ alg: 'HS256', typ: 'at+jwt', kid: 'k1' }).sign(secret);
    await rejects(verifier().verifyRequest(await request({ token: forged })), 'ERR_TOKEN_ALG');
  });

  test('unknown kid', async () => {
    const foreign = await signToken(otherIssuerKey, 'k2', delegatedClaims(NOW, dpop.jkt) as JWTPayload);
    await rejects(verifier().verifyRequest(await request({ token: foreign })), 'ERR_TOKEN_KEY_UNKNOWN');
  });

  test('signature by another key under a published kid', async () => {
    const forged = await signToken(otherIssuerKey, 'k1', delegatedClaims(NOW, dpop.jkt) as JWTPayload);
    await rejects(verifier().verifyRequest(await request({ token: forged })), 'ERR_TOKEN_SIGNATURE');
  });

  test('wrong typ', async () => {
    await rejects(verifier().verifyRequest(await request({ token: await token({}, { typ: 'JWT' }) })), 'ERR_TOKEN_TYP');
  });

  test('wrong iss', async () => {
    await rejects(verifier().verifyRequest(await request({ token: await token({ iss: 'http://evil.example' }) })), 'ERR_TOKEN_ISSUER');
  });

  test('wrong aud, and aud as an array', async () => {
    await rejects(verifier().verifyRequest(await request({ token: await token({ aud: 'https://other.example.com' }) })), 'ERR_TOKEN_AUDIENCE');
    await rejects(verifier().verifyRequest(await request({ token: await token({ aud: [AUDIENCE, 'https://other.example.com'] }) })), 'ERR_TOKEN_AUDIENCE');
  });

  test('task location other than this audience', async () => {
    const claims = delegatedClaims(NOW, dpop.jkt);
    const [detail] = claims.authorization_details as Array<Record<string, unknown>>;
    const moved = await token({ authorization_details: [{ ...detail, locations: ['https://other.example.com'] }] });
    await rejects(verifier().verifyRequest(await request({ token: moved })), 'ERR_TOKEN_LOCATION');
  });

  test('expired beyond the skew', async () => {
    await rejects(verifier().verifyRequest(await request({ token: await token({ exp: NOW - 31 }) })), 'ERR_TOKEN_EXPIRED');
  });

  test('task notAfter passed', async () => {
    const claims = delegatedClaims(NOW, dpop.jkt);
    const [detail] = claims.authorization_details as Array<Record<string, unknown>>;
    const ended = await token({ authorization_details: [{ ...detail, constraints: { notAfter: NOW - 120 } }] });
    await rejects(verifier().verifyRequest(await request({ token: ended })), 'ERR_TOKEN_EXPIRED');
  });

  test('nbf in the future beyond the skew', async () => {
    await rejects(verifier().verifyRequest(await request({ token: await token({ nbf: NOW + 120 }) })), 'ERR_TOKEN_NOT_YET_VALID');
  });

  test('a token without cnf.jkt is not DPoP-bound', async () => {
    await rejects(verifier().verifyRequest(await request({ token: await token({ cnf: undefined }) })), 'ERR_TOKEN_CLAIMS');
  });

  test('a token with neither act nor sub_profile names no actor', async () => {
    await rejects(verifier().verifyRequest(await request({ token: await token({ act: undefined }) })), 'ERR_TOKEN_CLAIMS');
  });

  test('Bearer instead of DPoP (RFC 9449 §7.2)', async () => {
    const promise = verifier().verifyRequest(await request({ scheme: 'Bearer' }));
    await rejects(promise, 'ERR_TOKEN_BEARER');
    const error = (await promise.catch((e: unknown) => e)) as VerifierError;
    assert.match(error.wwwAuthenticate!, /^DPoP error="invalid_token", error_description="[^"]+", algs="ES256 EdDSA"$/);
  });

  test('another scheme', async () => {
    await rejects(verifier().verifyRequest(await request({ scheme: 'Basic' })), 'ERR_TOKEN_SCHEME');
  });
});

describe('createVerifier: DPoP proof rejections', () => {
  test('missing proof', async () => {
    await rejects(verifier().verifyRequest(await request({ proof: null })), 'ERR_DPOP_MISSING');
  });

  test('a proof that is not a JWS, and two proofs', async () => {
    await rejects(verifier().verifyRequest(await request({ proof: 'not-a-jws' })), 'ERR_DPOP_MALFORMED');
    const accessToken = await token();
    const one = await signProof(dpop, { iat: NOW, token: accessToken });
    const req = await request({ token: accessToken, proof: `${one}, ${one}` });
    await rejects(verifier().verifyRequest(req), 'ERR_DPOP_MALFORMED');
  });

  test('wrong proof typ', async () => {
    await rejects(verifier().verifyRequest(await request({ proof: { header: { typ: 'JWT' } } })), 'ERR_DPOP_TYP');
  });

  test('proof alg outside the allow-list', async () => {
    const accessToken = await token();
    const secret = new Uint8Array(32);
    const proof = await new SignJWT({ jti: 'x', htm: 'GET', htu: `${PUBLIC_URL}/items`, iat: NOW }).setProtectedHeader({ alg: 'HS256', typ: 'dpop+jwt', jwk: dpop.publicJwk }).sign(secret);
    await rejects(verifier().verifyRequest(await request({ token: accessToken, proof })), 'ERR_DPOP_ALG');
  });

  test('a private jwk in the proof header', async () => {
    await rejects(verifier().verifyRequest(await request({ proof: { header: { jwk: { ...dpop.publicJwk, d: 'AAAA' } } } })), 'ERR_DPOP_JWK');
  });

  test('a jwk that does not fit the alg', async () => {
    await rejects(verifier().verifyRequest(await request({ proof: { header: { jwk: otherDpop.publicJwk } } })), 'ERR_DPOP_JWK');
  });

  test('proof signed by a key other than its jwk', async () => {
    const stranger = await makeKey('ES256');
    await rejects(verifier().verifyRequest(await request({ proof: { signWith: stranger.privateKey } })), 'ERR_DPOP_SIGNATURE');
  });

  test('proof without jti', async () => {
    await rejects(verifier().verifyRequest(await request({ proof: { claims: { jti: undefined } } })), 'ERR_DPOP_JTI');
  });

  test('htm mismatch', async () => {
    await rejects(verifier().verifyRequest(await request({ method: 'POST' })), 'ERR_DPOP_HTM');
  });

  test('htu for another host', async () => {
    await rejects(verifier().verifyRequest(await request({ proof: { htu: 'https://other.example.com/items' } })), 'ERR_DPOP_HTU');
  });

  test('a request target starting with // is a path, not another host', async () => {
    await rejects(verifier().verifyRequest(await request({ url: '//api.example.com/items' })), 'ERR_DPOP_HTU');
  });

  test('htu trailing slash is significant', async () => {
    await rejects(verifier().verifyRequest(await request({ proof: { htu: `${PUBLIC_URL}/items/` } })), 'ERR_DPOP_HTU');
  });

  test('stale iat, and iat in the future', async () => {
    await rejects(verifier().verifyRequest(await request({ proof: { iat: NOW - 61 } })), 'ERR_DPOP_IAT');
    await rejects(verifier().verifyRequest(await request({ proof: { iat: NOW + 31 } })), 'ERR_DPOP_IAT');
  });

  test('replayed jti', async () => {
    const v = verifier();
    const req = await request();
    await v.verifyRequest(req);
    await rejects(v.verifyRequest(req), 'ERR_DPOP_REPLAY');
  });

  test('ath of another token, and no ath', async () => {
    await rejects(verifier().verifyRequest(await request({ proof: { token: await token() } })), 'ERR_DPOP_ATH');
    await rejects(verifier().verifyRequest(await request({ proof: { claims: { ath: undefined } } })), 'ERR_DPOP_ATH');
  });

  test('cnf.jkt names another key than the proof', async () => {
    const bound = await signToken(issuerKey, 'k1', delegatedClaims(NOW, otherDpop.jkt) as JWTPayload);
    await rejects(verifier().verifyRequest(await request({ token: bound })), 'ERR_DPOP_KEY_MISMATCH');
  });
});

describe('createVerifier: policy', () => {
  test('an actor outside allowedActors gets 403', async () => {
    await rejects(verifier({ allowedActors: ['agt_other'] }).verifyRequest(await request()), 'ERR_ACTOR_NOT_ALLOWED', 403);
    await verifier({ allowedActors: [AGENT] }).verifyRequest(await request());
  });

  test('autonomous tokens are rejected by default and accepted on opt-in', async () => {
    const autonomous = await token({ sub: AGENT, act: undefined, sub_profile: 'ai_agent' });
    await rejects(verifier().verifyRequest(await request({ token: autonomous })), 'ERR_AUTONOMOUS_REJECTED', 403);
    const result = await verifier({ acceptAutonomous: true }).verifyRequest(await request({ token: autonomous }));
    assert.equal(result.autonomous, true);
    assert.equal(result.agentId, AGENT);
  });

  test('admin-token approvals are accepted by default and refused on request', async () => {
    const claims = delegatedClaims(NOW, dpop.jkt);
    const [detail] = claims.authorization_details as Array<Record<string, Record<string, unknown>>>;
    const viaAdmin = await token({ authorization_details: [{ ...detail, delegation: { ...detail!.delegation, method: 'admin_token' } }] });
    await verifier().verifyRequest(await request({ token: viaAdmin }));
    await rejects(verifier({ acceptAdminTokenApprovals: false }).verifyRequest(await request({ token: viaAdmin })), 'ERR_ADMIN_APPROVAL_REJECTED', 403);
  });
});
