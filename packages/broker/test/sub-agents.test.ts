import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { decodeJwt } from 'jose';
import type { AgentClient } from '@mandate/sdk';
import { GRANT_TYPE, MAY_ACT_SUB_PARAMETER, SUB_GRANT_TOKEN_TYPE, TOKEN_TYPE } from '@mandate/sdk/protocol';
import type { ErrorCode } from '../src/core/errors.ts';
import { mandateErrorOf } from '../src/services/actor-attestation.ts';
import { runCli } from './support/cli-runner.ts';
import {
  API, assertOAuthError, clientAuth, FRESHNESS_SECONDS, generateDpopKey, OTHER_API, SECRETS, startLoopFixture, startResourceServer,
  type DpopKeyPair, type LoopAgent, type LoopFixture, type ResourceServer, type WireResponse,
} from './support/loop-fixture.ts';

/**
 * PROTOCOL §10 over HTTP against the real broker: a parent agent exchanges its access token for a
 * one-time sub-grant naming a child agent, the child redeems it with its own client
 * authentication, DPoP key and fresh attestation. Each accepted narrowing, each refusal (with its
 * code, and audited as `delegation.rejected`), the depth cap, the revocation cascade and the
 * audit tree. Evidence comes from the fixture's local OpenID issuer and code-digest, made per call.
 */

let fx: LoopFixture;
let rs: ResourceServer;
before(async () => {
  fx = await startLoopFixture({ config: { delegation: { maxDepth: 2, subGrantTtl: '5m' } } });
  rs = await startResourceServer(fx);
});
after(async () => {
  await rs?.close();
  await fx?.close();
});

/** An agent with a known DPoP key: an SDK client on that key, and raw requests signed by it. */
interface Actor {
  agent: LoopAgent;
  id: string;
  key: DpopKeyPair;
  sdk: AgentClient;
}

async function newActor(): Promise<Actor> {
  const agent = await fx.addAgent();
  const key = await generateDpopKey();
  return { agent, id: agent.agent.id, key, sdk: agent.client({ dpopKey: key.pair }) };
}

type SubGrant = Awaited<ReturnType<AgentClient['delegate']>>;
const nowSeconds = () => Math.floor(fx.clock.now() / 1000);
type Constraints = { notAfter?: number; maxUses?: number };

/** A parent holding an approved mandate (SDK: attest, ask, approve as alice, wait), its first token and the mandate id. */
async function approvedParent(actions = ['read', 'write'], constraints: Constraints = {}): Promise<{ parent: Actor; mandateId: string; token: string }> {
  const parent = await newActor();
  const notAfter = new Date((constraints.notAfter ?? nowSeconds() + 3600) * 1000);
  const { authReqId } = await parent.sdk.ask({
    loginHint: fx.alice.id, bindingMessage: 'Triage the items',
    task: { purpose: 'Triage the items', audience: API, actions, notAfter, ...(constraints.maxUses ? { maxUses: constraints.maxUses } : {}) },
  });
  const mandateId = await fx.pendingMandateOf(parent.id);
  assert.equal((await fx.adminApi('POST', `/admin/v1/mandates/${mandateId}/approve`, fx.secrets.alice)).status, 200);
  const { accessToken } = await parent.sdk.waitForApproval(authReqId, { interval: 0.05, timeoutMs: 10_000 });
  return { parent, mandateId, token: accessToken };
}

/** The parent token's task as it reads in the token, with `over` applied (no `delegation`). */
function taskOf(token: string, over: Record<string, unknown> = {}): Record<string, unknown> {
  const { delegation: _, ...task } = (decodeJwt(token).authorization_details as Array<Record<string, unknown>>)[0]!;
  return { ...task, ...over };
}

/** A raw sub-grant request by `parent` for `child`, proof by `key` (default: the parent's). */
async function askSubGrant(parent: Actor, token: string, child: string | undefined, fields: Record<string, string | undefined> = {}, key = parent.key): Promise<WireResponse> {
  return fx.post('/token', {
    ...(await clientAuth(parent.agent)), grant_type: GRANT_TYPE.tokenExchange, subject_token: token, subject_token_type: TOKEN_TYPE.accessToken,
    requested_token_type: SUB_GRANT_TOKEN_TYPE, [MAY_ACT_SUB_PARAMETER]: child, ...fields,
  }, { dpop: await fx.proof(key, '/token') });
}

/** A raw redemption by `child`, with a fresh attestation unless `actor_token` is given. */
async function redeem(child: Actor, subGrant: string, fields: Record<string, string | undefined> = {}): Promise<WireResponse> {
  return fx.post('/token', {
    ...(await clientAuth(child.agent)), grant_type: GRANT_TYPE.tokenExchange, subject_token: subGrant, subject_token_type: SUB_GRANT_TOKEN_TYPE,
    actor_token: (await child.sdk.attest()).attestation, actor_token_type: TOKEN_TYPE.jwt, resource: API, ...fields,
  }, { dpop: await fx.proof(child.key, '/token') });
}

function granted(response: WireResponse): string {
  assert.equal(response.status, 200, JSON.stringify(response.body));
  return response.body.access_token as string;
}

/** A refusal: the OAuth error its code maps to, and a `delegation.rejected` event naming the code. */
async function assertRefused(response: WireResponse, code: ErrorCode, message: string | RegExp, mandateError?: string): Promise<void> {
  assertOAuthError(response, code, message, mandateError);
  const newest = (await fx.auditEvents(1))[0]!;
  assert.equal(newest.type, 'delegation.rejected');
  assert.equal((newest.data as { code: string }).code, code);
}

const mandateError = mandateErrorOf;
const introspect = async (token: string) => (await fx.post('/introspect', { token, client_id: API, client_secret: SECRETS[API]! })).body;

describe('accepted: equal or narrower in every dimension', () => {
  test('a sub-grant equal to the parent token: the child redeems it through the SDK and calls the API as itself', async () => {
    const { parent, mandateId } = await approvedParent(['read']);
    const child = await newActor();
    const subGrant: SubGrant = await parent.sdk.delegate({ child: child.id });
    assert.match(subGrant.subGrant, /^sgr_/);
    assert.equal(subGrant.resource, API);
    const redeemed = await child.sdk.redeem(subGrant);
    assert.match(redeemed.grant, /^mgr_/);
    const claims = decodeJwt(redeemed.accessToken);
    assert.equal(claims.sub, fx.alice.id, 'sub is still the human');
    assert.equal(claims.client_id, child.id);
    assert.deepEqual(claims.act, { sub: child.id, sub_profile: 'ai_agent', act: { sub: parent.id, sub_profile: 'ai_agent' } });
    assert.deepEqual(claims.cnf, { jkt: child.key.jkt });
    const [details] = claims.authorization_details as Array<Record<string, unknown> & { delegation: Record<string, unknown> }>;
    const [childMandate] = await fx.app.store.mandates.listChildren(mandateId);
    assert.equal(details!.delegation.id, childMandate!.id);
    assert.equal(details!.delegation.approved_by, fx.alice.id);
    assert.equal(details!.delegation.task_s256, (await fx.app.loop.decisions.get(mandateId)).taskS256, 'the approval is carried through');
    const call = await child.sdk.fetch(`${rs.url}/items`, { resource: API });
    assert.deepEqual(await call.json(), { agent: child.id, subject: fx.alice.id, autonomous: false });
  });

  test('a sub-grant request sent twice (same client assertion and proof) is refused before any effect: one child mandate', async () => {
    const { parent, mandateId, token } = await approvedParent(['read']);
    const child = await newActor();
    const form = {
      ...(await clientAuth(parent.agent)), grant_type: GRANT_TYPE.tokenExchange, subject_token: token, subject_token_type: TOKEN_TYPE.accessToken,
      requested_token_type: SUB_GRANT_TOKEN_TYPE, [MAY_ACT_SUB_PARAMETER]: child.id,
    };
    const headers = { dpop: await fx.proof(parent.key, '/token') };
    assert.equal((await fx.post('/token', form, headers)).status, 200);
    assertOAuthError(await fx.post('/token', form, headers), 'ERR_CLIENT_ASSERTION_REPLAY', 'the client assertion was already used');
    assert.equal((await fx.app.store.mandates.listChildren(mandateId)).length, 1);
  });

  test('a sub-grant request whose DPoP proof is replayed under a fresh client assertion is refused before any effect: one child mandate', async () => {
    const { parent, mandateId, token } = await approvedParent(['read']);
    const child = await newActor();
    const form = async () => ({
      ...(await clientAuth(parent.agent)), grant_type: GRANT_TYPE.tokenExchange, subject_token: token, subject_token_type: TOKEN_TYPE.accessToken,
      requested_token_type: SUB_GRANT_TOKEN_TYPE, [MAY_ACT_SUB_PARAMETER]: child.id,
    });
    const headers = { dpop: await fx.proof(parent.key, '/token') };
    assert.equal((await fx.post('/token', await form(), headers)).status, 200);
    assertOAuthError(await fx.post('/token', await form(), headers), 'ERR_DPOP_REPLAY', 'jti was already used');
    assert.equal((await fx.app.store.mandates.listChildren(mandateId)).length, 1);
  });

  test('narrowed actions are accepted', async () => {
    const { parent } = await approvedParent(['read', 'write']);
    const child = await newActor();
    const redeemed = await child.sdk.redeem(await parent.sdk.delegate({ child: child.id, actions: ['read'] }));
    assert.deepEqual(redeemed.authorizationDetails[0]!.actions, ['read']);
    assert.equal((await child.sdk.fetch(`${rs.url}/items`, { resource: API, method: 'POST' })).status, 403, 'write was not passed on');
  });

  test('a narrowed expiry is accepted, and the child token never outlives it', async () => {
    const { parent } = await approvedParent(['read']);
    const child = await newActor();
    const notAfter = nowSeconds() + 60;
    const redeemed = await child.sdk.redeem(await parent.sdk.delegate({ child: child.id, notAfter }));
    assert.equal(redeemed.authorizationDetails[0]!.constraints!.notAfter, notAfter);
    assert.equal(decodeJwt(redeemed.accessToken).exp, notAfter);
  });

  test('narrowed maxUses are accepted and carved out of the parent\'s remaining uses atomically', async () => {
    const { parent, mandateId } = await approvedParent(['read'], { maxUses: 5 });
    assert.equal(await fx.app.store.counters.remaining(mandateId), 4, 'the first CIBA token took one use');
    const child = await newActor();
    const redeemed = await child.sdk.redeem(await parent.sdk.delegate({ child: child.id, maxUses: 3 }));
    assert.equal(await fx.app.store.counters.remaining(mandateId), 1, 'three uses moved to the child');
    const childMandate = (await fx.app.store.mandates.listChildren(mandateId))[0]!;
    assert.equal(await fx.app.store.counters.remaining(childMandate.id), 2, 'redeeming took the first of the child\'s uses');
    assert.equal(redeemed.authorizationDetails[0]!.constraints!.maxUses, 3);
  });

  test('the parent\'s own audience named as resource is accepted (a sub-grant keeps its one audience)', async () => {
    const { parent, token } = await approvedParent(['read']);
    const child = await newActor();
    const response = await askSubGrant(parent, token, child.id, { resource: API });
    assert.equal(response.status, 200, JSON.stringify(response.body));
    assert.deepEqual(Object.keys(response.body).sort(), ['access_token', 'authorization_details', 'expires_in', 'issued_token_type', 'may_act', 'token_type']);
    assert.equal(response.body.issued_token_type, SUB_GRANT_TOKEN_TYPE);
    assert.equal(response.body.token_type, 'N_A');
    assert.deepEqual(response.body.may_act, { sub: child.id });
    assert.equal(response.body.expires_in, 300);
    assert.equal(response.headers.get('cache-control'), 'no-store');
  });

  test('a redeemed child renews like any mandate: fresh evidence each time, the same nested act', async () => {
    const { parent } = await approvedParent(['read']);
    const child = await newActor();
    const first = await child.sdk.redeem(await parent.sdk.delegate({ child: child.id }));
    const renewed = await child.sdk.mint({ resource: API });
    const [before, after] = [first, renewed].map((t) => decodeJwt(t.accessToken));
    assert.deepEqual(after!.act, before!.act);
    assert.notEqual((after!['urn:mandate:attestation'] as { ref: string }).ref, (before!['urn:mandate:attestation'] as { ref: string }).ref, 'a new attestation');
  });
});

describe('refused: widening', () => {
  test('another audience (ERR_SUB_GRANT_WIDENING_AUDIENCE)', async () => {
    const { parent, token } = await approvedParent(['read']);
    const child = await newActor();
    await assertRefused(await askSubGrant(parent, token, child.id, { resource: OTHER_API }), 'ERR_SUB_GRANT_WIDENING_AUDIENCE', 'resource is not the audience of the parent token', mandateError('ERR_SUB_GRANT_WIDENING_AUDIENCE'));
    const details = JSON.stringify([taskOf(token, { locations: [OTHER_API] })]);
    await assertRefused(await askSubGrant(parent, token, child.id, { authorization_details: details }), 'ERR_SUB_GRANT_WIDENING_AUDIENCE', 'authorization_details widen the parent token (audience)', mandateError('ERR_SUB_GRANT_WIDENING_AUDIENCE'));
  });

  test('more actions than the parent token (ERR_SUB_GRANT_WIDENING_ACTIONS)', async () => {
    const { parent, token } = await approvedParent(['read']);
    const child = await newActor();
    const details = JSON.stringify([taskOf(token, { actions: ['read', 'write'] })]);
    await assertRefused(await askSubGrant(parent, token, child.id, { authorization_details: details }), 'ERR_SUB_GRANT_WIDENING_ACTIONS', 'authorization_details widen the parent token (actions)', mandateError('ERR_SUB_GRANT_WIDENING_ACTIONS'));
  });

  test('a later notAfter than the parent token (ERR_SUB_GRANT_WIDENING_EXPIRY)', async () => {
    const { parent, token } = await approvedParent(['read']);
    const child = await newActor();
    const later = (taskOf(token).constraints as { notAfter: number }).notAfter + 60;
    const details = JSON.stringify([taskOf(token, { constraints: { notAfter: later } })]);
    await assertRefused(await askSubGrant(parent, token, child.id, { authorization_details: details }), 'ERR_SUB_GRANT_WIDENING_EXPIRY', 'authorization_details widen the parent token (notAfter)', mandateError('ERR_SUB_GRANT_WIDENING_EXPIRY'));
  });

  test('more uses than the parent has, or has left (ERR_SUB_GRANT_WIDENING_MAX_USES)', async () => {
    const { parent, mandateId, token } = await approvedParent(['read'], { maxUses: 3 });
    const child = await newActor();
    const notAfter = (taskOf(token).constraints as { notAfter: number }).notAfter;
    const ask = (maxUses?: number) => askSubGrant(parent, token, child.id, { authorization_details: JSON.stringify([taskOf(token, { constraints: { notAfter, ...(maxUses ? { maxUses } : {}) } })]) });
    await assertRefused(await ask(4), 'ERR_SUB_GRANT_WIDENING_MAX_USES', 'authorization_details widen the parent token (maxUses)', mandateError('ERR_SUB_GRANT_WIDENING_MAX_USES'));
    await assertRefused(await ask(), 'ERR_SUB_GRANT_WIDENING_MAX_USES', 'authorization_details widen the parent token (maxUses)', mandateError('ERR_SUB_GRANT_WIDENING_MAX_USES'));
    await assertRefused(await ask(3), 'ERR_SUB_GRANT_WIDENING_MAX_USES', 'maxUses 3 exceeds the 2 uses the parent has left', mandateError('ERR_SUB_GRANT_WIDENING_MAX_USES'));
    assert.equal(await fx.app.store.counters.remaining(mandateId), 2, 'a refused carve takes nothing');
    assert.deepEqual(await fx.app.store.mandates.listChildren(mandateId), [], 'and stores nothing');
  });

  test('another purpose than the parent token (ERR_SUB_GRANT_WIDENING_TASK)', async () => {
    const { parent, token } = await approvedParent(['read']);
    const child = await newActor();
    const details = JSON.stringify([taskOf(token, { purpose: 'Something else entirely' })]);
    await assertRefused(await askSubGrant(parent, token, child.id, { authorization_details: details }), 'ERR_SUB_GRANT_WIDENING_TASK', 'authorization_details widen the parent token (purpose)', mandateError('ERR_SUB_GRANT_WIDENING_TASK'));
  });
});

describe('refused: depth, child, parent', () => {
  test('a third hop when delegation.maxDepth is 2 (ERR_SUB_GRANT_DEPTH); the second hop nests act twice', async () => {
    const { parent } = await approvedParent(['read']);
    const [child, grandchild, third] = [await newActor(), await newActor(), await newActor()];
    await child.sdk.redeem(await parent.sdk.delegate({ child: child.id }));
    const second = await grandchild.sdk.redeem(await child.sdk.delegate({ child: grandchild.id }));
    assert.deepEqual(decodeJwt(second.accessToken).act, {
      sub: grandchild.id, sub_profile: 'ai_agent', act: { sub: child.id, sub_profile: 'ai_agent', act: { sub: parent.id, sub_profile: 'ai_agent' } },
    });
    await assertRefused(await askSubGrant(grandchild, second.accessToken, third.id), 'ERR_SUB_GRANT_DEPTH', 'delegation.maxDepth is 2', mandateError('ERR_SUB_GRANT_DEPTH'));
  });

  test('a child that is not a registered agent (ERR_SUB_GRANT_CHILD_UNKNOWN)', async () => {
    const { parent, token } = await approvedParent(['read']);
    const nobody = `agt_${randomBytes(16).toString('base64url')}`;
    await assertRefused(await askSubGrant(parent, token, nobody), 'ERR_SUB_GRANT_CHILD_UNKNOWN', 'may_act_sub is not a registered agent', mandateError('ERR_SUB_GRANT_CHILD_UNKNOWN'));
    await assertRefused(await askSubGrant(parent, token, fx.alice.id), 'ERR_SUB_GRANT_CHILD_UNKNOWN', 'may_act_sub is not a registered agent', mandateError('ERR_SUB_GRANT_CHILD_UNKNOWN'));
  });

  test('a suspended child (ERR_SUB_GRANT_CHILD_INACTIVE)', async () => {
    const { parent, token } = await approvedParent(['read']);
    const child = await newActor();
    assert.equal((await fx.adminApi('POST', `/admin/v1/agents/${child.id}/suspend`, fx.secrets.admin)).status, 200);
    await assertRefused(await askSubGrant(parent, token, child.id), 'ERR_SUB_GRANT_CHILD_INACTIVE', 'the child agent is suspended', mandateError('ERR_SUB_GRANT_CHILD_INACTIVE'));
  });

  test('the parent itself, or an agent already up the chain (ERR_SUB_GRANT_CHILD_IN_CHAIN)', async () => {
    const { parent, token } = await approvedParent(['read']);
    await assertRefused(await askSubGrant(parent, token, parent.id), 'ERR_SUB_GRANT_CHILD_IN_CHAIN', 'the child already acts in this delegation chain', mandateError('ERR_SUB_GRANT_CHILD_IN_CHAIN'));
    const child = await newActor();
    const redeemed = await child.sdk.redeem(await parent.sdk.delegate({ child: child.id }));
    await assertRefused(await askSubGrant(child, redeemed.accessToken, parent.id), 'ERR_SUB_GRANT_CHILD_IN_CHAIN', 'the child already acts in this delegation chain', mandateError('ERR_SUB_GRANT_CHILD_IN_CHAIN'));
  });

  test('a revoked parent token (ERR_SUB_GRANT_PARENT_REVOKED)', async () => {
    const { parent, token } = await approvedParent(['read']);
    const child = await newActor();
    assert.equal((await fx.post('/revoke', { ...(await clientAuth(parent.agent)), token })).status, 200);
    await assertRefused(await askSubGrant(parent, token, child.id), 'ERR_SUB_GRANT_PARENT_REVOKED', 'the parent access token is revoked', mandateError('ERR_SUB_GRANT_PARENT_REVOKED'));
  });

  test('an expired parent token (ERR_SUB_GRANT_PARENT_EXPIRED)', async () => {
    const { parent, token } = await approvedParent(['read']);
    const child = await newActor();
    fx.clock.advance((FRESHNESS_SECONDS + 1) * 1000);
    await assertRefused(await askSubGrant(parent, token, child.id), 'ERR_SUB_GRANT_PARENT_EXPIRED', 'the parent access token has expired', mandateError('ERR_SUB_GRANT_PARENT_EXPIRED'));
  });

  test('a subject token that is no delegated token of this broker (ERR_SUB_GRANT_SUBJECT_TOKEN)', async () => {
    const { parent } = await approvedParent(['read']);
    const child = await newActor();
    await assertRefused(await askSubGrant(parent, 'not-a-jws', child.id), 'ERR_SUB_GRANT_SUBJECT_TOKEN', /^subject_token: /, mandateError('ERR_SUB_GRANT_SUBJECT_TOKEN'));
    const attestation = (await parent.sdk.attest()).attestation;
    await assertRefused(await askSubGrant(parent, attestation, child.id), 'ERR_SUB_GRANT_SUBJECT_TOKEN', 'subject_token typ must be at+jwt', mandateError('ERR_SUB_GRANT_SUBJECT_TOKEN'));
  });

  test('a proof by a key other than the cnf key of the parent token (ERR_SUB_GRANT_DPOP_KEY)', async () => {
    const { parent, token } = await approvedParent(['read']);
    const child = await newActor();
    const other = await generateDpopKey();
    await assertRefused(await askSubGrant(parent, token, child.id, {}, other), 'ERR_SUB_GRANT_DPOP_KEY', 'the DPoP proof is not by the key the parent token is bound to', mandateError('ERR_SUB_GRANT_DPOP_KEY'));
  });

  test('a requested_token_type that is neither an access token nor a sub-grant (ERR_TOKEN_TYPE_UNSUPPORTED)', async () => {
    const { parent, token } = await approvedParent(['read']);
    const response = await askSubGrant(parent, token, parent.id, { requested_token_type: TOKEN_TYPE.refreshToken });
    assertOAuthError(response, 'ERR_TOKEN_TYPE_UNSUPPORTED', `requested_token_type must be ${TOKEN_TYPE.accessToken} or ${SUB_GRANT_TOKEN_TYPE}`);
  });

  test('another agent\'s token, even with its DPoP key (ERR_MINT_CLIENT_MISMATCH)', async () => {
    const { parent, token } = await approvedParent(['read']);
    const thief = await newActor();
    const response = await askSubGrant({ ...thief, key: parent.key }, token, thief.id);
    await assertRefused(response, 'ERR_MINT_CLIENT_MISMATCH', 'the parent token was issued to another agent', mandateError('ERR_MINT_CLIENT_MISMATCH'));
  });
});

describe('refused: redemption', () => {
  /** A fresh sub-grant from a new parent to a new child. */
  async function subGrantFor(): Promise<{ parent: Actor; child: Actor; subGrant: string; mandateId: string }> {
    const { parent, token, mandateId } = await approvedParent(['read']);
    const child = await newActor();
    return { parent, child, subGrant: granted(await askSubGrant(parent, token, child.id)), mandateId };
  }

  test('an agent other than may_act.sub (ERR_SUB_GRANT_NOT_MAY_ACT)', async () => {
    const { parent, subGrant } = await subGrantFor();
    await assertRefused(await redeem(parent, subGrant), 'ERR_SUB_GRANT_NOT_MAY_ACT', 'the sub-grant names another agent (may_act.sub)', mandateError('ERR_SUB_GRANT_NOT_MAY_ACT'));
  });

  test('a sub-grant redeemed twice (ERR_SUB_GRANT_REUSED)', async () => {
    const { child, subGrant } = await subGrantFor();
    const first = await redeem(child, subGrant);
    assert.equal(first.status, 200, JSON.stringify(first.body));
    assert.match(first.body.refresh_token as string, /^mgr_/);
    await assertRefused(await redeem(child, subGrant), 'ERR_SUB_GRANT_REUSED', 'the sub-grant was already redeemed', mandateError('ERR_SUB_GRANT_REUSED'));
  });

  test('two concurrent redemptions of one sub-grant: exactly one token leaves', async () => {
    const { child, subGrant } = await subGrantFor();
    const results = await Promise.all([redeem(child, subGrant), redeem(child, subGrant)]);
    assert.deepEqual(results.map((r) => r.status).sort(), [200, 400]);
    assert.equal(results.find((r) => r.status === 400)!.body.mandate_error, 'sub_grant_reused');
  });

  test('an unknown sub-grant (ERR_SUB_GRANT_INVALID)', async () => {
    const child = await newActor();
    await assertRefused(await redeem(child, `sgr_${randomBytes(32).toString('base64url')}`), 'ERR_SUB_GRANT_INVALID', 'subject_token is not a sub-grant', mandateError('ERR_SUB_GRANT_INVALID'));
  });

  test('a sub-grant past delegation.subGrantTtl (ERR_SUB_GRANT_EXPIRED)', async () => {
    const { child, subGrant } = await subGrantFor();
    fx.clock.advance(301_000);
    await assertRefused(await redeem(child, subGrant), 'ERR_SUB_GRANT_EXPIRED', 'the sub-grant expired before it was redeemed', mandateError('ERR_SUB_GRANT_EXPIRED'));
  });

  test('a child attestation that is stale (ERR_MINT_ATTESTATION_STALE), then one that fails (ERR_MINT_ACTOR_TOKEN); the sub-grant survives both', async () => {
    const { parent, child, subGrant } = await subGrantFor();
    const stale = (await child.sdk.attest()).attestation;
    fx.clock.advance((FRESHNESS_SECONDS + 1) * 1000);
    await assertRefused(await redeem(child, subGrant, { actor_token: stale }), 'ERR_MINT_ATTESTATION_STALE', 'the attestation result has expired: attest again', 'attestation_stale');
    const parents = (await parent.sdk.attest()).attestation;
    await assertRefused(await redeem(child, subGrant, { actor_token: parents }), 'ERR_MINT_ACTOR_TOKEN', 'the result was issued to another agent', 'attestation_subject_mismatch');
    assert.equal((await redeem(child, subGrant)).status, 200, 'a fresh attestation of its own redeems it');
  });
});

describe('revocation cascade and the audit tree', () => {
  test('revoking the parent mandate revokes every descendant mandate and token: introspection says inactive', async () => {
    const { parent, mandateId, token } = await approvedParent(['read']);
    const [child, grandchild, late] = [await newActor(), await newActor(), await newActor()];
    const childToken = await child.sdk.redeem(await parent.sdk.delegate({ child: child.id }));
    const grandToken = await grandchild.sdk.redeem(await child.sdk.delegate({ child: grandchild.id }));
    const unredeemed = await parent.sdk.delegate({ child: late.id });
    for (const t of [token, childToken.accessToken, grandToken.accessToken]) assert.equal((await introspect(t)).active, true);

    const revoked = await fx.adminApi('POST', `/admin/v1/mandates/${mandateId}/revoke`, fx.secrets.alice, { reason: 'done' });
    assert.equal(revoked.status, 200, JSON.stringify(revoked.body));
    for (const t of [token, childToken.accessToken, grandToken.accessToken]) assert.deepEqual(await introspect(t), { active: false });
    const tree = (await fx.adminApi('GET', `/admin/v1/mandates/${mandateId}`, fx.secrets.alice)).body.children as Array<Record<string, unknown>>;
    const statuses = (nodes: Array<Record<string, unknown>>): unknown[] => nodes.flatMap((n) => [[n.status, n.end_reason], ...statuses(n.children as Array<Record<string, unknown>>)]);
    assert.deepEqual(statuses(tree), [['revoked', 'parent_revoked'], ['revoked', 'parent_revoked'], ['revoked', 'parent_revoked']]);
    await assert.rejects(child.sdk.mint({ resource: API }), (error: { mandateError?: string }) => error.mandateError === 'mandate_revoked');
    await assertRefused(await redeem(late, unredeemed.subGrant), 'ERR_SUB_GRANT_PARENT_REVOKED', 'the sub-grant was revoked with its parent mandate', mandateError('ERR_SUB_GRANT_PARENT_REVOKED'));
  });

  test('a child mandate exhausted by its one use is revoked with its parent: its last token ends too', async () => {
    const { parent, mandateId } = await approvedParent(['read']);
    const child = await newActor();
    const redeemed = await child.sdk.redeem(await parent.sdk.delegate({ child: child.id, maxUses: 1 }));
    const childMandate = (await fx.app.store.mandates.listChildren(mandateId))[0]!;
    assert.equal((await fx.app.store.mandates.get(childMandate.id))?.status, 'exhausted');
    assert.equal((await introspect(redeemed.accessToken)).active, true);
    assert.equal((await fx.adminApi('POST', `/admin/v1/mandates/${mandateId}/revoke`, fx.secrets.alice, { reason: 'done' })).status, 200);
    assert.deepEqual(await introspect(redeemed.accessToken), { active: false });
    assert.equal((await fx.app.store.mandates.get(childMandate.id))?.status, 'revoked');
  });

  test('the audit tree: every hop\'s events name their own mandate and the parent; the admin API and mandate show draw the tree', async () => {
    const { parent, mandateId } = await approvedParent(['read', 'write']);
    const [child, grandchild] = [await newActor(), await newActor()];
    const subGrant = await parent.sdk.delegate({ child: child.id, actions: ['read'] });
    const childToken = await child.sdk.redeem(subGrant);
    const childId = (decodeJwt(childToken.accessToken).authorization_details as Array<{ delegation: { id: string } }>)[0]!.delegation.id;
    await grandchild.sdk.redeem(await child.sdk.delegate({ child: grandchild.id }));

    const events = await fx.app.store.audit.byMandate(childId, 50);
    assert.deepEqual(events.map((e) => [e.type, e.actor, e.mandateId, e.evidenceDigest !== null]), [
      ['mandate.delegated', parent.id, childId, true],
      ['mandate.activated', child.id, childId, true],
      ['token.issued', child.id, childId, true],
    ]);
    assert.deepEqual(events.slice(0, 2).map((e) => e.data.parent_mandate_id), [mandateId, mandateId], 'the hop names its parent');
    const issued = (await fx.app.store.audit.byMandate(mandateId, 50)).map((e) => e.type);
    assert.ok(!issued.includes('mandate.delegated' as never), 'the parent\'s trail holds its own events; the hop is in the child\'s');

    const shown = (await fx.adminApi('GET', `/admin/v1/mandates/${mandateId}`, fx.secrets.alice)).body;
    const [node] = shown.children as Array<Record<string, unknown>>;
    assert.deepEqual({ id: node!.id, agent: node!.agent_id, depth: node!.depth, actions: node!.actions, status: node!.status }, { id: childId, agent: child.id, depth: 1, actions: ['read'], status: 'active' });
    assert.match(node!.attestation_digest as string, /^[0-9a-f]{64}$/);
    const [grand] = node!.children as Array<Record<string, unknown>>;
    assert.deepEqual({ agent: grand!.agent_id, depth: grand!.depth, children: grand!.children }, { agent: grandchild.id, depth: 2, children: [] });
    const childShown = (await fx.adminApi('GET', `/admin/v1/mandates/${childId}`, fx.secrets.alice)).body;
    assert.deepEqual([childShown.parent_mandate_id, childShown.depth, childShown.delegated_by], [mandateId, 1, [parent.id]]);

    // runCli reads process.exitCode, which an earlier failing test may have set.
    const failedBefore = process.exitCode;
    process.exitCode = undefined;
    const run = await runCli(['show', mandateId, '--url', fx.issuer], { MANDATE_ADMIN_TOKEN: fx.secrets.alice });
    process.exitCode = failedBefore;
    assert.equal(run.exitCode, 0, run.err + run.out);
    assert.match(run.out, new RegExp(`^delegation tree \\(2 below\\):\\n${mandateId}  ${parent.id}  active  read,write  \\(this mandate\\)$`, 'm'));
    assert.match(run.out, new RegExp(`^└─ ${childId}  ${child.id}  active  read  evidence=[0-9a-f]{64}$`, 'm'));
    assert.match(run.out, new RegExp(`^   └─ mdt_\\S+  ${grandchild.id}  active  read  evidence=[0-9a-f]{64}$`, 'm'));
  });
});
