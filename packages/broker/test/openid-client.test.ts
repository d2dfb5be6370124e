import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import * as DPoP from 'dpop';
import { decodeJwt, importJWK } from 'jose';
import * as oidc from 'openid-client';
import { GRANT_TYPE, TOKEN_TYPE } from '@mandate/sdk/protocol';
import { API, startLoopFixture, startResourceServer, type LoopFixture, type ResourceServer } from './support/loop-fixture.ts';

/**
 * Interoperability: a standard client library (openid-client v6, on oauth4webapi) discovers the
 * broker from its RFC 8414 metadata and drives CIBA and token exchange with DPoP (RFC 9449 §10:
 * the key is pinned at /bc-authorize by `dpop_jkt`); the `dpop` package makes the proof for the
 * resource server. Only the attestation comes from the Mandate SDK (it is Mandate's own step).
 */

let fx: LoopFixture;
let rs: ResourceServer;
before(async () => {
  fx = await startLoopFixture();
  rs = await startResourceServer(fx);
});
after(async () => {
  await rs?.close();
  await fx?.close();
});

test('openid-client discovers the broker and drives CIBA + token exchange with DPoP', async () => {
  const agent = await fx.addAgent();
  const clientKey = (await importJWK(agent.privateJwk, 'ES256')) as CryptoKey;
  const config = await oidc.discovery(new URL(fx.issuer), agent.agent.id, undefined, oidc.PrivateKeyJwt(clientKey), {
    algorithm: 'oauth2', execute: [oidc.allowInsecureRequests],
  });
  const metadata = config.serverMetadata();
  assert.equal(metadata.issuer, fx.issuer);
  assert.equal(metadata.backchannel_authentication_endpoint, `${fx.issuer}/bc-authorize`);
  assert.ok(metadata.grant_types_supported?.includes(GRANT_TYPE.ciba));

  const dpopKeys = await DPoP.generateKeyPair('ES256');
  const jkt = await DPoP.calculateThumbprint(dpopKeys.publicKey);
  const { attestation } = await agent.client({ dpopKey: dpopKeys }).attest();

  const task = { type: 'agent-task', purpose: 'Read the items', locations: [API], actions: ['read'], constraints: { notAfter: Math.floor(fx.clock.now() / 1000) + 3600 } };
  const ciba = await oidc.initiateBackchannelAuthentication(config, {
    login_hint: fx.alice.id, binding_message: 'Read the items', authorization_details: JSON.stringify([task]), attestation, dpop_jkt: jkt,
  });
  assert.equal(ciba.interval, 1);
  const mandateId = await fx.pendingMandateOf(agent.agent.id);
  assert.equal((await fx.adminApi('POST', `/admin/v1/mandates/${mandateId}/approve`, fx.secrets.alice)).status, 200);

  const handle = oidc.getDPoPHandle(config, dpopKeys);
  const first = await oidc.pollBackchannelAuthenticationGrant(config, ciba, undefined, { DPoP: handle, signal: AbortSignal.timeout(10_000) });
  assert.equal(first.token_type, 'dpop');
  assert.match(String(first.refresh_token), /^mgr_/);
  assert.deepEqual(decodeJwt(first.access_token).cnf, { jkt });

  const { attestation: actorToken } = await agent.client({ dpopKey: dpopKeys }).attest();
  const exchanged = await oidc.genericGrantRequest(config, GRANT_TYPE.tokenExchange, {
    subject_token: first.refresh_token!, subject_token_type: TOKEN_TYPE.refreshToken, actor_token: actorToken, actor_token_type: TOKEN_TYPE.jwt, resource: API,
  }, { DPoP: handle });
  assert.equal(exchanged.token_type, 'dpop');
  assert.equal(exchanged.issued_token_type, TOKEN_TYPE.accessToken);
  assert.equal(decodeJwt(exchanged.access_token).sub, fx.alice.id);

  const url = `${rs.url}/items`;
  const response = await fetch(url, { headers: { authorization: `DPoP ${exchanged.access_token}`, dpop: await DPoP.generateProof(dpopKeys, url, 'GET', undefined, exchanged.access_token) } });
  assert.equal(response.status, 200, await response.clone().text());
  assert.deepEqual(await response.json(), { agent: agent.agent.id, subject: fx.alice.id, autonomous: false });
});
