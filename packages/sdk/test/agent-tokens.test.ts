// Minting, renewal, DPoP fetch and revocation: the agent client against the broker stand-in and
// a resource server that uses the SDK's own verifier.
import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';
import { decodeJwt } from 'jose';
import { ConfigurationError, createAgentClient, createVerifier, NoGrantError, nodeHttpAdapter, OAuthResponseError, type Verifier } from '../src/index.ts';
import { agentFixture } from './support/agent-fixture.ts';
import { listen, readBody } from './support/http.ts';

const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanup.length) await cleanup.pop()!();
});

/** A resource server (requiring DPoP nonces) whose audience the stand-in issues tokens for. */
async function setup(options: { autonomous?: boolean; tokenTtl?: number } = {}) {
  let verifier: Verifier | undefined;
  const hits: Array<{ status: number; body: string }> = [];
  const rs = await listen(async (req, res) => {
    const body = await readBody(req);
    const auth = nodeHttpAdapter(verifier!);
    try {
      const { agentId, subject } = await auth.authenticate(req);
      hits.push({ status: 200, body });
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ agentId, subject, body }));
    } catch (error) {
      hits.push({ status: 401, body });
      auth.reject(res, error);
    }
  });
  const fixture = await agentFixture({ audience: rs.url, tokenTtl: options.tokenTtl ?? 300 });
  cleanup.push(rs.close, fixture.broker.close);
  verifier = createVerifier({
    issuer: fixture.broker.issuer, audience: rs.url, jwks: fixture.broker.jwksUrl, publicUrl: rs.url,
    requireNonce: true, acceptAutonomous: true, now: fixture.time.now,
  });
  const client = (extra: Partial<Parameters<typeof createAgentClient>[0]> = {}) =>
    createAgentClient({ issuer: fixture.broker.issuer, clientId: 'agt_test', clientKey: fixture.privateJwk, evidence: fixture.evidence, clock: fixture.time.clock, ...extra });
  const agent = client({ ...(options.autonomous ? { autonomous: true } : {}) });
  const approve = async () => {
    fixture.broker.poll.push('approve');
    const { authReqId } = await agent.ask({ loginHint: 'usr_alice', bindingMessage: 'm', task: { purpose: 'p', audience: rs.url, actions: ['issues:read'], notAfter: Math.floor(fixture.time.now() / 1000) + 86_400 } });
    return agent.waitForApproval(authReqId);
  };
  return { ...fixture, rs, hits, agent, client, approve };
}

const exchanges = (calls: Array<{ form: Record<string, string> }>) => calls.filter((c) => c.form.grant_type === 'urn:ietf:params:oauth:grant-type:token-exchange');

test('renewal happens before expiry and re-attests with fresh evidence every time', async () => {
  const { agent, approve, broker, bindings, time, rs } = await setup();
  const first = await approve();
  const attestsBefore = bindings.length;
  assert.equal((await agent.getToken(rs.url)).accessToken, first.accessToken);
  time.advance(269_000);
  assert.equal((await agent.getToken(rs.url)).accessToken, first.accessToken, 'not yet due');
  time.advance(2_000);
  const [a, b] = await Promise.all([agent.getToken(rs.url), agent.getToken(rs.url)]);
  assert.equal(a, b, 'concurrent callers share one renewal');
  assert.notEqual(a.accessToken, first.accessToken);
  time.advance(280_000);
  await agent.getToken(rs.url);
  const renewals = exchanges(broker.calls);
  assert.equal(renewals.length, 2);
  assert.equal(bindings.length, attestsBefore + 2, 'one fresh evidence collection per renewal');
  assert.equal(new Set(bindings.map((binding) => binding.nonce)).size, bindings.length, 'each for its own challenge');
  const actors = renewals.map((call) => call.form.actor_token);
  assert.equal(new Set([...actors, ...broker.attestations.slice(0, attestsBefore)]).size, attestsBefore + 2, 'no attestation result is reused');
  for (const call of renewals) {
    assert.equal(call.form.subject_token, first.grant);
    assert.equal(call.form.resource, rs.url);
  }
});

test('mint surfaces the broker reason as OAuthResponseError.mandateError', async () => {
  const { agent, approve, broker, rs } = await setup();
  await approve();
  broker.setMandateError('mandate_revoked');
  const error = await agent.mint({ resource: rs.url }).catch((e) => e);
  assert.ok(error instanceof OAuthResponseError);
  assert.equal(error.code, 'ERR_SDK_OAUTH_RESPONSE');
  assert.equal(error.status, 400);
  assert.equal(error.oauthError, 'invalid_request');
  assert.equal(error.mandateError, 'mandate_revoked');
});

test('a client without a grant cannot get a token; a stored grant works with a new DPoP key', async () => {
  const { client, approve, agent, rs } = await setup();
  await assert.rejects(client().getToken(rs.url), NoGrantError);
  await approve();
  const restored = client({ grants: agent.grants() });
  const tokens = await restored.getToken(rs.url);
  assert.equal((decodeJwt(tokens.accessToken).cnf as { jkt: string }).jkt, await restored.jkt());
  assert.notEqual(await restored.jkt(), await agent.jkt());
});

test('fetch sends DPoP with ath, answers the RS nonce challenge once, and replays the body', async () => {
  const { agent, approve, hits, rs } = await setup();
  await approve();
  const response = await agent.fetch(`${rs.url}/items?page=1`, { method: 'POST', body: 'hello', headers: { 'content-type': 'text/plain' } });
  assert.equal(response.status, 200);
  assert.deepEqual(await response.json(), { agentId: 'agt_test', subject: 'usr_alice', body: 'hello' });
  assert.deepEqual(hits.map((h) => [h.status, h.body]), [[401, 'hello'], [200, 'hello']]);
  const again = await agent.fetch(`${rs.url}/items`);
  assert.equal(again.status, 200, 'the nonce is remembered');
  assert.equal(hits.length, 3);
});

test('an autonomous client gets client_credentials tokens with the attestation in headers', async () => {
  const { agent, broker, rs } = await setup({ autonomous: true });
  const response = await agent.fetch(`${rs.url}/items`);
  assert.equal(response.status, 200);
  assert.deepEqual(await response.json(), { agentId: 'agt_test', subject: 'agt_test', body: '' });
  const call = broker.calls.find((c) => c.form.grant_type === 'client_credentials')!;
  assert.equal(call.form.resource, rs.url);
  assert.ok(call.headers['oauth-client-attestation'] && call.headers['oauth-client-attestation-pop']);
});

test('revoke() revokes the cached tokens and the grant, then forgets them', async () => {
  const { agent, approve, broker, rs } = await setup();
  const approved = await approve();
  await agent.revoke();
  const revoked = broker.calls.filter((c) => c.path === '/revoke');
  assert.deepEqual(revoked.map((c) => [c.form.token, c.form.token_type_hint]), [[approved.accessToken, 'access_token'], [approved.grant, 'refresh_token']]);
  assert.deepEqual(broker.revokedGrants(), [approved.grant]);
  await assert.rejects(agent.getToken(rs.url), NoGrantError);
});

test('createAgentClient checks its options', () => {
  assert.throws(() => createAgentClient({ issuer: 'not a url', clientId: 'agt_x', clientKey: {} }), ConfigurationError);
  assert.throws(() => createAgentClient({ issuer: 'http://localhost:7420', clientId: '', clientKey: {} }), /clientId/);
  assert.throws(() => createAgentClient({ issuer: 'http://localhost:7420', clientId: 'agt_x', clientKey: {}, renewBeforeSeconds: -1 }), /renewBeforeSeconds/);
});
