import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, test } from 'node:test';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { OAuthResponseError, type AgentClient } from '@mandate/sdk';
import { ATTESTATION_CLAIM } from '@mandate/sdk/protocol';
import { verificationKeysFromStore } from '../src/audit/verification-keys.ts';
import { verifyAudit } from '../src/audit/verify.ts';
import { ERROR_CATALOGUE } from '../src/core/errors.ts';
import { nodeChainHashing } from '../src/store/chain-hashing.ts';
import { API, FRESHNESS_SECONDS, startLoopFixture, startResourceServer, type LoopFixture, type ResourceServer } from './support/loop-fixture.ts';

/**
 * The core loop end to end through the SDK against the real broker on loopback: attest → ask →
 * approve (admin API, the approver's own token) → wait → mint → call a resource server → revoke →
 * refused; the audit log verifies and tells the story. Also: the token's claims (PROTOCOL §5),
 * audit before issue (PROTOCOL §9), and a restart.
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

const sha256 = (text: string) => createHash('sha256').update(text).digest('base64url');
const notAfter = (seconds: number) => new Date(fx.clock.now() + seconds * 1000);

interface Approved {
  client: AgentClient;
  mandateId: string;
  authReqId: string;
  grant: string;
  accessToken: string;
}

/** Ask through the SDK, approve as alice through the admin API, wait for the first token. */
async function approvedMandate(actions = ['read'], seconds = 3600): Promise<Approved> {
  const client = fx.agent.client();
  const { authReqId } = await client.ask({
    loginHint: fx.alice.id, bindingMessage: 'Triage the items', task: { purpose: 'Triage the items', audience: API, actions, notAfter: notAfter(seconds) },
  });
  const listed = await fx.adminApi('GET', `/admin/v1/mandates?status=pending&agent=${fx.agent.agent.id}&limit=1`, fx.secrets.alice);
  const mandateId = (listed.body.mandates as Array<{ id: string }>)[0]!.id;
  const approval = await fx.adminApi('POST', `/admin/v1/mandates/${mandateId}/approve`, fx.secrets.alice);
  assert.equal(approval.status, 200, JSON.stringify(approval.body));
  const { grant, accessToken } = await client.waitForApproval(authReqId, { interval: 0.05, timeoutMs: 10_000 });
  return { client, mandateId, authReqId, grant, accessToken };
}

async function callApi(client: AgentClient, method = 'GET') {
  const response = await client.fetch(`${rs.url}/items`, { method, resource: API });
  return { status: response.status, wwwAuthenticate: response.headers.get('www-authenticate'), body: (await response.json()) as Record<string, unknown> };
}

test('attest → ask → approve → token + grant → mint → call → revoke → refused; the audit trail verifies', async () => {
  const client = fx.agent.client();
  const attestation = await client.attest();
  assert.equal(attestation.verdict, 'warning');
  const { authReqId, interval } = await client.ask({
    loginHint: fx.alice.id, bindingMessage: 'Triage the items', attestation,
    task: { purpose: 'Triage the items', audience: API, actions: ['read', 'write'], notAfter: notAfter(3600) },
  });
  assert.equal(interval, 1);

  const pending = await fx.adminApi('GET', `/admin/v1/mandates?status=pending&approver=${fx.alice.id}`, fx.secrets.alice);
  const listed = (pending.body.mandates as Array<Record<string, unknown>>).find((m) => m.agent_id === fx.agent.agent.id)!;
  assert.equal(listed.binding_message, 'Triage the items');
  assert.equal(listed.dpop_jkt, await client.jkt());
  const mandateId = listed.id as string;
  const approved = await fx.adminApi('POST', `/admin/v1/mandates/${mandateId}/approve`, fx.secrets.alice);
  assert.equal(approved.status, 200, JSON.stringify(approved.body));
  assert.deepEqual({ ...(approved.body.approval as object), approved_at: 'x' }, { approved_by: fx.alice.id, approved_at: 'x', method: 'admin_token' });

  const first = await client.waitForApproval(authReqId, { interval: 0.05, timeoutMs: 10_000 });
  assert.match(first.grant, /^mgr_/);
  assert.equal(first.resource, API);
  assert.deepEqual(client.grants(), { [API]: first.grant });

  const minted = await client.mint({ resource: API });
  assert.notEqual(minted.accessToken, first.accessToken);
  assert.deepEqual(await callApi(client), { status: 200, wwwAuthenticate: null, body: { agent: fx.agent.agent.id, subject: fx.alice.id, autonomous: false } });
  assert.equal((await callApi(client, 'POST')).status, 200, 'write was approved too');

  const revoked = await fx.adminApi('POST', `/admin/v1/mandates/${mandateId}/revoke`, fx.secrets.alice, { reason: 'task done' });
  assert.equal(revoked.status, 200, JSON.stringify(revoked.body));
  assert.equal(revoked.body.status, 'revoked');

  const refused = await callApi(client);
  assert.equal(refused.status, 401);
  assert.match(String(refused.wwwAuthenticate), /^DPoP error="invalid_token", error_description="the access token is no longer active"/);
  const introspected = await fx.post('/introspect', { token: minted.accessToken, client_id: API, client_secret: 'api-introspection-secret' });
  assert.deepEqual(introspected.body, { active: false });
  await assert.rejects(client.mint({ resource: API }), (error: unknown) => {
    assert.ok(error instanceof OAuthResponseError);
    assert.equal(error.status, 400);
    assert.equal(error.oauthError, 'invalid_request');
    assert.equal(error.mandateError, 'mandate_revoked');
    return true;
  });

  const report = await verifyAudit({
    sink: fx.app.store.audit, keys: await verificationKeysFromStore(fx.app.store.keys), checkpointFile: fx.app.config.audit.checkpointFile, hashing: nodeChainHashing,
  });
  assert.equal(report.ok, true, JSON.stringify(report.faults));

  const shown = await fx.adminApi('GET', `/admin/v1/mandates/${mandateId}`, fx.secrets.alice);
  const trail = (shown.body.audit as Array<Record<string, unknown>>).map(({ type, actor, approver, mandate_id, jti }) => ({ type, actor, approver, mandate_id, jti }));
  const [firstJti, mintedJti] = [decodeJwt(first.accessToken).jti, decodeJwt(minted.accessToken).jti];
  const agent = fx.agent.agent.id;
  const alice = fx.alice.id;
  assert.deepEqual(trail, [
    { type: 'mandate.requested', actor: agent, approver: alice, mandate_id: mandateId, jti: null },
    { type: 'mandate.approved', actor: alice, approver: alice, mandate_id: mandateId, jti: null },
    { type: 'mandate.activated', actor: agent, approver: alice, mandate_id: mandateId, jti: null },
    { type: 'token.issued', actor: agent, approver: alice, mandate_id: mandateId, jti: firstJti },
    { type: 'token.issued', actor: agent, approver: alice, mandate_id: mandateId, jti: mintedJti },
    { type: 'mandate.revoked', actor: alice, approver: alice, mandate_id: mandateId, jti: null },
  ]);
  const credentials = shown.body.credentials as Array<{ jti: string; revoked_at: string | null }>;
  assert.deepEqual(credentials.map((c) => c.jti).sort(), [firstJti, mintedJti].sort());
  assert.ok(credentials.every((c) => c.revoked_at !== null), 'revoking the mandate revoked its tokens');
});

test('the access token carries exactly the claims of PROTOCOL §5', async () => {
  const { client, mandateId, authReqId, accessToken } = await approvedMandate(['read'], 3600);
  const shown = (await fx.adminApi('GET', `/admin/v1/mandates/${mandateId}`, fx.secrets.alice)).body;
  const header = decodeProtectedHeader(accessToken);
  assert.equal(header.typ, 'at+jwt');
  assert.equal(header.alg, 'ES256');
  const claims = decodeJwt(accessToken);
  assert.deepEqual(Object.keys(claims).sort(), ['act', 'aud', 'authorization_details', 'client_id', 'cnf', 'exp', 'iat', 'iss', 'jti', 'nbf', 'status', 'sub', ATTESTATION_CLAIM].sort());
  // PROTOCOL §7: the token's bit in a Token Status List of this issuer.
  assert.match(String((claims.status as { status_list: { uri: string } }).status_list.uri), new RegExp(`^${fx.issuer}/statuslists/\\d+$`));
  const approval = shown.approval as { approved_by: string; approved_at: string };
  assert.equal(claims.iss, fx.issuer);
  assert.equal(claims.sub, approval.approved_by, 'sub == approved_by');
  assert.equal(claims.sub, fx.alice.id);
  assert.equal(claims.aud, API);
  assert.equal(claims.client_id, fx.agent.agent.id);
  assert.deepEqual(claims.act, { sub: fx.agent.agent.id, sub_profile: 'ai_agent' });
  assert.deepEqual(claims.cnf, { jkt: await client.jkt() });
  const task = (shown.authorization_details as Array<Record<string, unknown>>)[0]!;
  assert.deepEqual(claims.authorization_details, [{
    ...task,
    delegation: { id: mandateId, approved_by: fx.alice.id, approved_at: Math.floor(Date.parse(approval.approved_at) / 1000), method: 'admin_token', task_s256: shown.task_s256 },
  }]);
  // PROTOCOL §4: task_s256 is the SHA-256 of the RFC 8785 task document, which names the hashed auth_req_id.
  assert.equal(shown.task_s256, sha256(nodeChainHashing.canonicalize(shown.task_document)));
  assert.equal((shown.task_document as { auth_req_id: string }).auth_req_id, sha256(authReqId));
  const summary = claims[ATTESTATION_CLAIM] as { iat: number; ref: string; status: string; evidence_digest: string };
  assert.equal(summary.ref, shown.attestation_id);
  assert.equal(summary.evidence_digest, shown.attestation_digest);
  assert.equal(summary.status, 'warning');
  const exp = claims.exp!;
  assert.equal(claims.nbf, claims.iat);
  assert.ok(exp - claims.iat! <= 300, 'at most 5 minutes');
  assert.ok(exp <= (task.constraints as { notAfter: number }).notAfter, 'not past notAfter');
  assert.ok(exp <= summary.iat + FRESHNESS_SECONDS, 'not past the evidence');
  assert.equal(exp, summary.iat + FRESHNESS_SECONDS, 'here the evidence is the binding cap');

  // A mandate ending sooner than the evidence caps the token at notAfter.
  const short = await approvedMandate(['read'], 60);
  const shortClaims = decodeJwt(short.accessToken);
  assert.equal(shortClaims.exp, ((shortClaims.authorization_details as Array<{ constraints: { notAfter: number } }>)[0]!.constraints.notAfter));
});

test('a wait that outlives the request attestation sends a fresh one (OAuth-Client-Attestation)', async () => {
  const client = fx.agent.client();
  const { authReqId } = await client.ask({
    loginHint: fx.alice.id, bindingMessage: 'Triage the items', task: { purpose: 'Triage the items', audience: API, actions: ['read'], notAfter: notAfter(3600) },
  });
  const mandateId = await fx.pendingMandateOf(fx.agent.agent.id);
  assert.equal((await fx.adminApi('POST', `/admin/v1/mandates/${mandateId}/approve`, fx.secrets.alice)).status, 200);
  fx.clock.advance((FRESHNESS_SECONDS + 1) * 1000);
  const { accessToken } = await client.waitForApproval(authReqId, { interval: 0.05, timeoutMs: 10_000 });
  const summary = decodeJwt(accessToken)[ATTESTATION_CLAIM] as { ref: string };
  assert.notEqual(summary.ref, (await fx.app.loop.decisions.get(mandateId)).attestationId, 'the token names the fresh attestation');
});

test('the SDK renews a token shortly before it expires, with fresh evidence', async () => {
  const { client, accessToken } = await approvedMandate();
  assert.equal((await callApi(client)).status, 200);
  fx.clock.advance((FRESHNESS_SECONDS - 20) * 1000);
  assert.equal((await callApi(client)).status, 200);
  const renewed = await client.getToken(API);
  assert.notEqual(renewed.accessToken, accessToken);
  const [before, after] = [accessToken, renewed.accessToken].map((t) => (decodeJwt(t)[ATTESTATION_CLAIM] as { ref: string }).ref);
  assert.notEqual(after, before, 'renewal re-attested');
});

test('no token leaves before its audit event is committed', async () => {
  const { client, mandateId } = await approvedMandate();
  let release!: () => void;
  fx.auditControl.gate = { holds: (inputs) => inputs.some((i) => i.type === 'token.issued'), until: new Promise<void>((resolve) => (release = resolve)) };
  let settled = false;
  const minting = client.mint({ resource: API }).finally(() => (settled = true));
  try {
    await new Promise((resolve) => setTimeout(resolve, 150));
    assert.equal(settled, false, 'the token response waits for the audit commit');
    const stored = await fx.app.store.credentials.listByMandate(mandateId);
    assert.equal(stored.length, 1, 'not even the credential exists before the commit');
  } finally {
    fx.auditControl.gate = null;
    release();
  }
  const minted = await minting;
  const events = await fx.app.store.audit.byMandate(mandateId, 50);
  assert.equal(events.at(-1)!.jti, decodeJwt(minted.accessToken).jti);
});

test('a revocation that lands while a token is being minted: the mint is refused and no credential outlives it', async () => {
  const { client, mandateId } = await approvedMandate();
  let release!: () => void;
  fx.auditControl.gate = { holds: (inputs) => inputs.some((i) => i.type === 'token.issued'), until: new Promise<void>((resolve) => (release = resolve)) };
  const minting = client.mint({ resource: API }).then(() => null, (error: unknown) => error);
  try {
    await new Promise((resolve) => setTimeout(resolve, 100));
    // The mint passed its status check and waits for its audit commit; the mandate ends now.
    fx.auditControl.gate = null;
    assert.equal((await fx.adminApi('POST', `/admin/v1/mandates/${mandateId}/revoke`, fx.secrets.alice, { reason: 'race' })).status, 200);
  } finally {
    release();
  }
  const error = await minting;
  assert.ok(error instanceof OAuthResponseError, String(error));
  assert.equal(error.mandateError, 'mandate_revoked', 'the refusal names the status the commit found');
  // The racing mint's credential is never stored (it is written only with the check that the
  // mandate is live); the first token's credential is revoked with the mandate.
  const credentials = await fx.app.store.credentials.listByMandate(mandateId);
  assert.equal(credentials.length, 1);
  assert.ok(credentials.every((c) => c.revokedAt !== null), 'no credential outlives the revocation');
});

test('a failing audit commit: 503 temporarily_unavailable, no token, no credential (ERR_AUDIT_UNAVAILABLE)', async () => {
  const { client, mandateId } = await approvedMandate();
  const before = await fx.app.store.credentials.listByMandate(mandateId);
  const eventsBefore = await fx.app.store.audit.byMandate(mandateId, 50);
  fx.auditControl.fail = (inputs) => inputs.some((i) => i.type === 'token.issued');
  try {
    await assert.rejects(client.mint({ resource: API }), (error: unknown) => {
      assert.ok(error instanceof OAuthResponseError);
      assert.equal(error.status, ERROR_CATALOGUE.ERR_AUDIT_UNAVAILABLE.status);
      assert.equal(error.oauthError, ERROR_CATALOGUE.ERR_AUDIT_UNAVAILABLE.oauth);
      assert.equal(error.status, 503);
      assert.equal(error.oauthError, 'temporarily_unavailable');
      assert.equal(error.errorDescription, 'the audit log could not commit the event');
      return true;
    });
  } finally {
    fx.auditControl.fail = null;
  }
  assert.deepEqual(await fx.app.store.credentials.listByMandate(mandateId), before);
  assert.deepEqual(await fx.app.store.audit.byMandate(mandateId, 50), eventsBefore);
  assert.equal((await client.mint({ resource: API })).tokenType, 'DPoP', 'the next mint works once the log is back');
  const report = await verifyAudit({
    sink: fx.app.store.audit, keys: await verificationKeysFromStore(fx.app.store.keys), checkpointFile: fx.app.config.audit.checkpointFile, hashing: nodeChainHashing,
  });
  assert.equal(report.ok, true, JSON.stringify(report.faults));
});

test('a failing audit commit while collecting the CIBA grant puts the request back: the next poll collects it', async () => {
  const client = fx.agent.client();
  const { authReqId } = await client.ask({
    loginHint: fx.alice.id, bindingMessage: 'Triage the items', task: { purpose: 'Triage the items', audience: API, actions: ['read'], notAfter: notAfter(3600) },
  });
  const listed = await fx.adminApi('GET', `/admin/v1/mandates?status=pending&agent=${fx.agent.agent.id}&limit=1`, fx.secrets.alice);
  const mandateId = (listed.body.mandates as Array<{ id: string }>)[0]!.id;
  assert.equal((await fx.adminApi('POST', `/admin/v1/mandates/${mandateId}/approve`, fx.secrets.alice)).status, 200);
  fx.auditControl.fail = (inputs) => inputs.some((i) => i.type === 'token.issued');
  try {
    await assert.rejects(client.waitForApproval(authReqId, { interval: 0.05, timeoutMs: 10_000 }), (error: unknown) => error instanceof OAuthResponseError && error.status === 503);
  } finally {
    fx.auditControl.fail = null;
  }
  const mandate = await fx.app.loop.decisions.get(mandateId);
  assert.equal(mandate.status, 'approved');
  assert.equal(mandate.grantHash, null);
  const { grant } = await client.waitForApproval(authReqId, { interval: 0.05, timeoutMs: 10_000 });
  assert.match(grant, /^mgr_/);
  assert.equal((await fx.app.loop.decisions.get(mandateId)).status, 'active');
});

test('a restart keeps mandates and grants: a new agent process mints again with its stored grant', async () => {
  const { client, mandateId, grant } = await approvedMandate();
  await fx.restart();
  assert.equal((await fx.app.loop.decisions.get(mandateId)).status, 'active');
  // A restarted agent: the grant from its secret store, a new DPoP key.
  const restarted = fx.agent.client({ grants: client.grants() });
  assert.notEqual(await restarted.jkt(), await client.jkt());
  const minted = await restarted.mint({ resource: API });
  assert.deepEqual(decodeJwt(minted.accessToken).cnf, { jkt: await restarted.jkt() });
  assert.equal((await callApi(restarted)).status, 200);
  assert.equal(restarted.grants()[API], grant);
});
