// The verifier behind a real node:http server, with the issuer's JWKS fetched over HTTP.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { JWTPayload } from 'jose';
import { createVerifier, nodeHttpAdapter, protectedResourceMetadata, PROTECTED_RESOURCE_METADATA_PATH, type Verifier } from '../src/index.ts';
import { listen } from './support/http.ts';
import { AGENT, AUDIENCE, delegatedClaims, ISSUER, makeKey, signProof, signToken, type TestKey } from './support/keys.ts';

let issuerKey: TestKey;
let dpop: TestKey;
let jwksServer: Awaited<ReturnType<typeof listen>>;
let rs: Awaited<ReturnType<typeof listen>>;
let jwksFetches = 0;

before(async () => {
  [issuerKey, dpop] = await Promise.all([makeKey('ES256', 'k1'), makeKey('ES256')]);
  jwksServer = await listen((_req, res) => {
    jwksFetches += 1;
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [issuerKey.publicJwk] }));
  });
  let verifier: Verifier;
  rs = await listen(async (req, res) => {
    if (req.url === PROTECTED_RESOURCE_METADATA_PATH) {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(protectedResourceMetadata({ resource: AUDIENCE, authorizationServers: [ISSUER] })));
      return;
    }
    const auth = nodeHttpAdapter(verifier);
    try {
      const { agentId } = await auth.authenticate(req);
      res.end(`hello ${agentId}`);
    } catch (error) {
      auth.reject(res, error);
    }
  });
  verifier = createVerifier({ issuer: ISSUER, audience: AUDIENCE, jwks: `${jwksServer.url}/jwks`, publicUrl: rs.url });
});

after(async () => {
  await Promise.all([jwksServer.close(), rs.close()]);
});

test('node:http adapter: a valid request passes; the JWKS is fetched once and cached', async () => {
  const now = Math.floor(Date.now() / 1000);
  for (let i = 0; i < 2; i += 1) {
    const token = await signToken(issuerKey, 'k1', delegatedClaims(now, dpop.jkt) as JWTPayload);
    const response = await fetch(`${rs.url}/items?x=1`, { headers: { authorization: `DPoP ${token}`, dpop: await signProof(dpop, { iat: now, token, htu: `${rs.url}/items` }) } });
    assert.equal(response.status, 200);
    assert.equal(await response.text(), `hello ${AGENT}`);
  }
  assert.equal(jwksFetches, 1);
});

test('node:http adapter: a rejection answers its status, WWW-Authenticate and a JSON error', async () => {
  const now = Math.floor(Date.now() / 1000);
  const token = await signToken(issuerKey, 'k1', delegatedClaims(now, dpop.jkt) as JWTPayload);
  const response = await fetch(`${rs.url}/items`, { headers: { authorization: `Bearer ${token}` } });
  assert.equal(response.status, 401);
  assert.match(response.headers.get('www-authenticate')!, /^DPoP error="invalid_token"/);
  assert.equal(response.headers.get('cache-control'), 'no-store');
  assert.equal((await response.json()).error, 'invalid_token');
});

test('an unreachable JWKS fails closed with 503 ERR_JWKS_UNAVAILABLE', async () => {
  const now = Math.floor(Date.now() / 1000);
  const verifier = createVerifier({ issuer: ISSUER, audience: AUDIENCE, jwks: 'http://127.0.0.1:9/jwks', publicUrl: 'https://api.example.com' });
  const token = await signToken(issuerKey, 'k1', delegatedClaims(now, dpop.jkt) as JWTPayload);
  const request = { method: 'GET', url: '/items', headers: { authorization: `DPoP ${token}`, dpop: await signProof(dpop, { iat: now, token }) } };
  await assert.rejects(verifier.verifyRequest(request), { code: 'ERR_JWKS_UNAVAILABLE', status: 503 });
});

test('protectedResourceMetadata is RFC 9728 metadata requiring DPoP-bound tokens', async () => {
  const response = await fetch(`${rs.url}${PROTECTED_RESOURCE_METADATA_PATH}`);
  assert.deepEqual(await response.json(), {
    resource: AUDIENCE,
    authorization_servers: [ISSUER],
    bearer_methods_supported: ['header'],
    dpop_bound_access_tokens_required: true,
    dpop_signing_alg_values_supported: ['ES256', 'EdDSA'],
    authorization_details_types_supported: ['agent-task'],
  });
});
