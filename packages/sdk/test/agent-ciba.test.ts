// Attesting, asking and waiting against the node:http broker stand-in.
import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';
import { decodeJwt } from 'jose';
import { AccessDeniedError, createAgentClient, DiscoveryError, evidenceAudience, ExpiredRequestError, WaitAbortedError, WaitTimeoutError } from '../src/index.ts';
import { agentFixture, RESOURCE } from './support/agent-fixture.ts';
import { expectedEvidenceAudience } from './support/stand-in-checks.ts';

const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanup.length) await cleanup.pop()!();
});

async function setup(options: Parameters<typeof agentFixture>[0] = {}) {
  const fixture = await agentFixture(options);
  cleanup.push(fixture.broker.close);
  const agent = createAgentClient({ issuer: fixture.broker.issuer, clientId: 'agt_test', clientKey: fixture.privateJwk, evidence: fixture.evidence, clock: fixture.time.clock });
  return { ...fixture, agent };
}

const task = { purpose: 'Triage issues', audience: RESOURCE, actions: ['issues:read'], notAfter: new Date(Date.now() + 86_400_000) };
const ask = { loginHint: 'usr_alice', bindingMessage: 'Triage issues', task };

test('evidenceAudience is mandate: + b64url(SHA-256(nonce ‖ jkt))', async () => {
  assert.equal(await evidenceAudience('n0nce', 'thumb'), expectedEvidenceAudience('n0nce', 'thumb'));
  await assert.rejects(evidenceAudience('', 'thumb'), { code: 'ERR_SDK_CONFIGURATION' });
});

test('discover reads the metadata and refuses one naming another issuer', async () => {
  const { agent, broker, privateJwk } = await setup();
  assert.equal((await agent.discover()).attestation, `${broker.issuer}/attest`);
  const other = createAgentClient({ issuer: broker.issuer.replace('127.0.0.1', 'localhost'), clientId: 'agt_test', clientKey: privateJwk });
  await assert.rejects(other.discover(), DiscoveryError);
});

test('attest binds fresh evidence to a new challenge and the DPoP key', async () => {
  const { agent, bindings, broker } = await setup();
  const result = await agent.attest();
  assert.equal(result.verdict, 'affirming');
  assert.equal(bindings.length, 1);
  assert.equal(bindings[0]!.jkt, await agent.jkt());
  assert.equal(bindings[0]!.audience, expectedEvidenceAudience(bindings[0]!.nonce, await agent.jkt()));
  assert.equal(decodeJwt(result.attestation).sub, 'agt_test');
  const attestCall = broker.calls.find((c) => c.path === '/attest')!;
  assert.equal(attestCall.json!.client_assertion_type, 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer');
});

test('ask then waitForApproval: waits the interval, adds 5 s after slow_down, keeps grant and token', async () => {
  const { agent, broker, time } = await setup({ interval: 2 });
  broker.poll.push('pending', 'slow_down', 'pending', 'approve');
  const request = await agent.ask(ask);
  assert.equal(request.interval, 2);
  const bc = broker.calls.find((c) => c.path === '/bc-authorize')!;
  assert.deepEqual(JSON.parse(bc.form.authorization_details!)[0].locations, [RESOURCE]);
  assert.ok(bc.headers.dpop, 'the DPoP key is pinned with a proof header');
  const approved = await agent.waitForApproval(request.authReqId);
  assert.deepEqual(time.sleeps, [2000, 2000, 7000, 7000]);
  assert.match(approved.grant, /^mgr_/);
  assert.equal(approved.resource, RESOURCE);
  assert.deepEqual(agent.grants(), { [RESOURCE]: approved.grant });
  assert.equal((await agent.getToken(RESOURCE)).accessToken, approved.accessToken, 'the first token is cached');
});

test('waitForApproval stops with AccessDeniedError on access_denied', async () => {
  const { agent, broker } = await setup();
  broker.poll.push('pending', 'denied');
  const { authReqId } = await agent.ask(ask);
  const error = await agent.waitForApproval(authReqId).catch((e) => e);
  assert.ok(error instanceof AccessDeniedError);
  assert.equal(error.code, 'ERR_SDK_ACCESS_DENIED');
  assert.equal(error.oauthError, 'access_denied');
});

test('waitForApproval stops with ExpiredRequestError on expired_token', async () => {
  const { agent, broker } = await setup();
  broker.poll.push('expired');
  const { authReqId } = await agent.ask(ask);
  await assert.rejects(agent.waitForApproval(authReqId), { code: 'ERR_SDK_EXPIRED_REQUEST', oauthError: 'expired_token' });
  assert.ok(ExpiredRequestError);
});

test('waitForApproval honours timeoutMs and an abort signal', async () => {
  const { agent } = await setup();
  const { authReqId } = await agent.ask(ask);
  await assert.rejects(agent.waitForApproval(authReqId, { timeoutMs: 12_000 }), WaitTimeoutError);
  const controller = new AbortController();
  controller.abort(new Error('stop'));
  await assert.rejects(agent.waitForApproval(authReqId, { signal: controller.signal }), WaitAbortedError);
});

test('a stale attestation while polling is replaced in the OAuth-Client-Attestation headers', async () => {
  const { agent, broker, bindings } = await setup({ attestationTtl: 12, interval: 5 });
  broker.poll.push('pending', 'approve');
  const { authReqId } = await agent.ask(ask);
  await agent.waitForApproval(authReqId);
  const polls = broker.calls.filter((c) => c.form.grant_type === 'urn:openid:params:grant-type:ciba');
  assert.equal(polls[0]!.headers['oauth-client-attestation'], undefined, 'fresh at the first poll');
  assert.ok(polls[1]!.headers['oauth-client-attestation'], 'stale by the second poll: a new one is sent');
  assert.ok(polls[1]!.headers['oauth-client-attestation-pop']);
  assert.equal(bindings.length, 2, 'new evidence for a new challenge');
});

test('an attestation_stale answer makes the client re-attest and poll again', async () => {
  const { agent, broker, bindings } = await setup();
  broker.poll.push('stale', 'approve');
  const { authReqId } = await agent.ask(ask);
  const approved = await agent.waitForApproval(authReqId);
  assert.match(approved.grant, /^mgr_/);
  assert.equal(bindings.length, 2);
});

test('a DPoP nonce challenge from the AS is answered once, with a fresh assertion and proof', async () => {
  const { agent, broker } = await setup({ requireNonce: true });
  broker.poll.push('approve');
  const { authReqId } = await agent.ask(ask);
  await agent.waitForApproval(authReqId);
  const attests = broker.calls.filter((c) => c.path === '/attest');
  assert.equal(attests.length, 2, 'the first /attest got use_dpop_nonce and was retried');
  assert.equal(broker.calls.filter((c) => c.path === '/bc-authorize').length, 1, 'the nonce is remembered afterwards');
});

test('an Ed25519 client key authenticates with EdDSA assertions', async () => {
  const { agent, broker } = await setup({ clientAlg: 'EdDSA' });
  await agent.attest();
  const attest = broker.calls.find((c) => c.path === '/attest')!;
  assert.equal(JSON.parse(Buffer.from(String(attest.json!.client_assertion).split('.')[0]!, 'base64url').toString()).alg, 'EdDSA');
});
