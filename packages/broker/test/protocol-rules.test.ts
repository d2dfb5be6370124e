import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { decodeJwt, exportJWK, generateKeyPair, SignJWT } from 'jose';
import { evidenceAudience, type AgentClient } from '@mandate/sdk';
import { CLIENT_ATTESTATION_POP_TYP, CLIENT_ASSERTION_TYPE, GRANT_TYPE, JWT_TYP, TOKEN_TYPE } from '@mandate/sdk/protocol';
import { mandateErrorOf } from '../src/services/actor-attestation.ts';
import { startTestApp, type TestApp } from './support/app-fixture.ts';
import {
  API, assertOAuthError, AUTO_API, clientAuth, CODE_DIGEST, CONTRAINDICATED_DIGEST, FIXED_AUDIENCE, FRESHNESS_SECONDS, generateDpopKey, MAX_PENDING, OTHER_API, SECRETS,
  startLoopFixture, startResourceServer, type DpopKeyPair, type LoopAgent, type LoopFixture, type WireResponse,
} from './support/loop-fixture.ts';

/**
 * PROTOCOL §2–§7, one test per check, over HTTP against the real broker. Each rejection asserts
 * the status and RFC error its catalogue code maps to, the message, and `mandate_error` where the
 * protocol names one (see `assertOAuthError`).
 */

let fx: LoopFixture;
before(async () => {
  fx = await startLoopFixture();
});
after(() => fx.close());

/** An agent with its own DPoP key, an SDK client on that key, and raw request helpers. */
interface Actor {
  agent: LoopAgent;
  id: string;
  key: DpopKeyPair;
  sdk: AgentClient;
}

async function newActor(options?: Parameters<LoopFixture['addAgent']>[0], existing?: LoopAgent): Promise<Actor> {
  const agent = existing ?? (await fx.addAgent(options));
  const key = await generateDpopKey();
  return { agent, id: agent.agent.id, key, sdk: agent.client({ dpopKey: key.pair }) };
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('base64url');
const nowSeconds = () => Math.floor(fx.clock.now() / 1000);
const task = (over: Record<string, unknown> = {}) => ({
  type: 'agent-task', purpose: 'Read the items', locations: [API], actions: ['read'], constraints: { notAfter: nowSeconds() + 3600 }, ...over,
});
const attestation = async (a: Actor) => (await a.sdk.attest()).attestation;
const dpop = async (a: Actor, path: string, key = a.key) => ({ dpop: await fx.proof(key, path) });

async function ask(a: Actor, fields: Record<string, string | undefined> = {}, headers?: Record<string, string>): Promise<WireResponse> {
  const form = {
    ...(await clientAuth(a.agent)), login_hint: fx.alice.id, binding_message: 'Read the items',
    authorization_details: JSON.stringify([task()]), attestation: await attestation(a), ...fields,
  };
  return fx.post('/bc-authorize', form, headers ?? (await dpop(a, '/bc-authorize')));
}

async function poll(a: Actor, authReqId: string, key = a.key, headers: Record<string, string> = {}): Promise<WireResponse> {
  return fx.post('/token', { ...(await clientAuth(a.agent)), grant_type: GRANT_TYPE.ciba, auth_req_id: authReqId }, { ...(await dpop(a, '/token', key)), ...headers });
}

async function approve(mandateId: string, secret = fx.secrets.alice): Promise<void> {
  const response = await fx.adminApi('POST', `/admin/v1/mandates/${mandateId}/approve`, secret);
  assert.equal(response.status, 200, JSON.stringify(response.body));
}

async function pending(a: Actor, fields: Record<string, string | undefined> = {}): Promise<{ authReqId: string; mandateId: string }> {
  const asked = await ask(a, fields);
  assert.equal(asked.status, 200, JSON.stringify(asked.body));
  return { authReqId: asked.body.auth_req_id as string, mandateId: await fx.pendingMandateOf(a.id) };
}

interface Active {
  mandateId: string;
  grant: string;
  token: string;
}

async function activeMandate(a: Actor, over: Record<string, unknown> = {}): Promise<Active> {
  const { authReqId, mandateId } = await pending(a, { authorization_details: JSON.stringify([task(over)]) });
  await approve(mandateId);
  const collected = await poll(a, authReqId);
  assert.equal(collected.status, 200, JSON.stringify(collected.body));
  return { mandateId, grant: collected.body.refresh_token as string, token: collected.body.access_token as string };
}

async function exchange(a: Actor, grant: string, fields: Record<string, string | string[] | undefined> = {}, key = a.key): Promise<WireResponse> {
  const form = {
    ...(await clientAuth(a.agent)), grant_type: GRANT_TYPE.tokenExchange, subject_token: grant, subject_token_type: TOKEN_TYPE.refreshToken,
    actor_token: await attestation(a), actor_token_type: TOKEN_TYPE.jwt, resource: API, ...fields,
  };
  return fx.post('/token', form, await dpop(a, '/token', key));
}

/** draft-ietf-oauth-attestation-based-client-auth: the PoP beside an attestation result. */
async function attestationPop(a: Actor, key = a.key): Promise<string> {
  return new SignJWT({})
    .setProtectedHeader({ alg: 'ES256', typ: CLIENT_ATTESTATION_POP_TYP })
    .setIssuer(a.id).setAudience(fx.issuer).setIssuedAt(nowSeconds()).setJti(randomBytes(12).toString('base64url'))
    .sign(key.pair.privateKey);
}

async function clientCredentials(a: Actor, headers?: Record<string, string>, resource = AUTO_API): Promise<WireResponse> {
  const attestationHeaders = headers ?? { 'oauth-client-attestation': await attestation(a), 'oauth-client-attestation-pop': await attestationPop(a) };
  return fx.post('/token', { ...(await clientAuth(a.agent)), grant_type: GRANT_TYPE.clientCredentials, resource }, { ...(await dpop(a, '/token')), ...attestationHeaders });
}

async function introspect(token: string, audience = API, secret = SECRETS[audience]!): Promise<WireResponse> {
  return fx.post('/introspect', { token, client_id: audience, client_secret: secret });
}

async function revoke(a: Actor, token: string): Promise<WireResponse> {
  return fx.post('/revoke', { ...(await clientAuth(a.agent)), token });
}

/** Runs `action` while audit commits holding an event of `type` fail (PROTOCOL §9), then lets the log recover. */
async function withFailingAudit<T>(type: string, action: () => Promise<T>): Promise<T> {
  fx.auditControl.fail = (inputs) => inputs.some((i) => i.type === type);
  try {
    return await action();
  } finally {
    fx.auditControl.fail = null;
  }
}

/** An admin API problem (RFC 9457): status, catalogue code and detail. */
function assertProblem(response: WireResponse, status: number, code: string, detail: string): void {
  const where = `${response.status} ${JSON.stringify(response.body)}`;
  assert.equal(response.status, status, where);
  assert.equal(response.body.code, code, where);
  assert.equal(response.body.detail, detail, where);
}

/** Names that are members of every object: no audience lookup may find them (prototype-safe lookups). */
const PROTOTYPE_NAMES = ['constructor', '__proto__', 'toString'];

/** A task exactly as approved, with `over` applied: only the named members differ (so notAfter never widens). */
async function approvedTask(mandateId: string, over: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
  return { ...(await fx.app.loop.decisions.get(mandateId)).task, ...over };
}

/** A signed result of this broker's key with chosen claims (the broker itself never signs such ones). */
function forgedResult(a: Actor, claims: Record<string, unknown>): string {
  const now = nowSeconds();
  return fx.app.keys.sign({ typ: JWT_TYP.attestationResult }, {
    iss: fx.issuer, sub: a.id, aud: fx.issuer, jti: `att_${randomBytes(16).toString('base64url')}`, cnf: { jkt: a.key.jkt },
    iat: now, exp: now + 60, verdict: 'affirming', policy: 'default', attestors: {}, evidence_digest: 'x', ...claims,
  });
}

// ─── §2 client authentication (private_key_jwt over HTTP; proof/client-assertion.test.ts has the unit cases) ───

describe('§2 client authentication at /token', () => {
  let a: Actor;
  before(async () => {
    a = await newActor();
  });
  const token = (form: Record<string, string | undefined>) => fx.post('/token', { grant_type: GRANT_TYPE.ciba, auth_req_id: 'x', ...form });
  const withAssertion = async (claims: Record<string, unknown> = {}, header: Record<string, unknown> = {}, extra: Record<string, string> = {}) =>
    token({ client_assertion_type: CLIENT_ASSERTION_TYPE, client_assertion: await a.agent.assertion(claims, header), ...extra });

  test('no client authentication → 401 invalid_client with WWW-Authenticate (ERR_CLIENT_AUTH_MISSING)', async () => {
    const response = await token({});
    assertOAuthError(response, 'ERR_CLIENT_AUTH_MISSING', 'private_key_jwt client authentication is required');
    assert.equal(response.headers.get('www-authenticate'), 'Bearer realm="mandate", error="invalid_client"');
  });
  test('another client_assertion_type (ERR_CLIENT_ASSERTION_TYPE)', async () => {
    assertOAuthError(await token({ client_assertion_type: 'urn:x', client_assertion: await a.agent.assertion() }), 'ERR_CLIENT_ASSERTION_TYPE', `client_assertion_type must be ${CLIENT_ASSERTION_TYPE}`);
  });
  test('an assertion that is not a JWS (ERR_CLIENT_ASSERTION_MALFORMED)', async () => {
    assertOAuthError(await token({ client_assertion_type: CLIENT_ASSERTION_TYPE, client_assertion: 'a.b' }), 'ERR_CLIENT_ASSERTION_MALFORMED', 'not a compact JWS');
  });
  test('typ JWT is refused (ERR_CLIENT_ASSERTION_TYP)', async () => {
    assertOAuthError(await withAssertion({}, { typ: 'JWT' }), 'ERR_CLIENT_ASSERTION_TYP', 'typ must be absent or client-authentication+jwt');
  });
  test('typ client-authentication+jwt is accepted (the request then fails on its grant)', async () => {
    const response = await withAssertion({}, { typ: 'client-authentication+jwt' });
    assert.equal(response.body.error, 'invalid_dpop_proof', JSON.stringify(response.body));
  });
  test('an unknown agent (ERR_CLIENT_UNKNOWN)', async () => {
    const stranger = 'agt_QQQQQQQQQQQQQQQQQQQQQQ';
    assertOAuthError(await withAssertion({ iss: stranger, sub: stranger }), 'ERR_CLIENT_UNKNOWN', 'unknown client');
  });
  test('client_id differs from the assertion (ERR_CLIENT_ID_MISMATCH)', async () => {
    assertOAuthError(await withAssertion({}, {}, { client_id: 'agt_QQQQQQQQQQQQQQQQQQQQQQ' }), 'ERR_CLIENT_ID_MISMATCH', 'client_id does not match iss');
  });
  test('sub differs from iss (ERR_CLIENT_ASSERTION_ISS_SUB)', async () => {
    assertOAuthError(await withAssertion({ sub: 'agt_QQQQQQQQQQQQQQQQQQQQQQ' }), 'ERR_CLIENT_ASSERTION_ISS_SUB', 'sub must equal iss');
  });
  test('signed by a key other than the registered one (ERR_CLIENT_ASSERTION_SIGNATURE)', async () => {
    const other = await fx.addAgent();
    const forged = await other.assertion({ iss: a.id, sub: a.id });
    assertOAuthError(await token({ client_assertion_type: CLIENT_ASSERTION_TYPE, client_assertion: forged }), 'ERR_CLIENT_ASSERTION_SIGNATURE', 'signature does not verify with the registered key');
  });
  test('aud is the token endpoint, not the issuer (ERR_CLIENT_ASSERTION_AUD)', async () => {
    assertOAuthError(await withAssertion({ aud: `${fx.issuer}/token` }), 'ERR_CLIENT_ASSERTION_AUD', 'aud must be exactly the issuer');
  });
  test('exp - iat above 60 s (ERR_CLIENT_ASSERTION_LIFETIME)', async () => {
    assertOAuthError(await withAssertion({ exp: nowSeconds() + 61 }), 'ERR_CLIENT_ASSERTION_LIFETIME', 'exp and iat are required and exp - iat must be at most 60 s');
  });
  test('an expired assertion (ERR_CLIENT_ASSERTION_EXPIRED)', async () => {
    assertOAuthError(await withAssertion({ iat: nowSeconds() - 90, exp: nowSeconds() - 60 }), 'ERR_CLIENT_ASSERTION_EXPIRED', 'the client assertion has expired');
  });
  test('no jti (ERR_CLIENT_ASSERTION_JTI)', async () => {
    assertOAuthError(await withAssertion({ jti: undefined }), 'ERR_CLIENT_ASSERTION_JTI', 'jti is required');
  });
  test('a replayed assertion (ERR_CLIENT_ASSERTION_REPLAY)', async () => {
    const assertion = await a.agent.assertion();
    await token({ client_assertion_type: CLIENT_ASSERTION_TYPE, client_assertion: assertion });
    assertOAuthError(await token({ client_assertion_type: CLIENT_ASSERTION_TYPE, client_assertion: assertion }), 'ERR_CLIENT_ASSERTION_REPLAY', 'the client assertion was already used');
  });
  test('a suspended agent (ERR_CLIENT_INACTIVE)', async () => {
    const b = await newActor();
    await fx.app.directory.suspendAgent(b.id, { actor: fx.admin.id, requestId: 'req_AAAAAAAAAAAAAAAAAAAAAA' });
    assertOAuthError(await fx.post('/token', { grant_type: GRANT_TYPE.ciba, ...(await clientAuth(b.agent)) }), 'ERR_CLIENT_INACTIVE', 'the agent is suspended');
  });
});

// ─── §3 challenges, evidence and attestation results ───

describe('§3 /challenge and /attest', () => {
  let a: Actor;
  before(async () => {
    a = await newActor();
  });
  const evidence = async (audience: string, oidcClaims: Record<string, unknown> = {}, digest: unknown = { digest: CODE_DIGEST }) => [
    { attestor: 'oidc-token', evidence: await fx.oidc.sign({ aud: audience, ...oidcClaims }) },
    { attestor: 'code-digest', evidence: digest },
  ];
  /** POST /attest with a fresh challenge; `items` builds the evidence for the bound audience. */
  const attestWith = async (actor: Actor, items: (audience: string) => Promise<unknown[]>, nonce?: string) => {
    const challenge = nonce ?? (await actor.sdk.challenge()).nonce;
    const body = { ...(await clientAuth(actor.agent)), nonce: challenge, evidence: await items(await evidenceAudience(challenge, actor.key.jkt)) };
    return fx.postJson('/attest', body, await dpop(actor, '/attest'));
  };
  /** The evidence was rejected, and the audit trail names `reason` (the code is not on the OAuth wire). */
  const rejectedFor = async (response: WireResponse, reason: string) => {
    assertOAuthError(response, 'ERR_ATTESTATION_REJECTED', 'the evidence does not satisfy the attestation policy');
    const event = (await fx.auditEvents(5)).reverse().find((e) => e.type === 'attestation.rejected' && e.actor === a.id);
    assert.ok(event, 'attestation.rejected is audited');
    assert.ok(((event.data as { failures: string[] }).failures).includes(reason), JSON.stringify(event.data));
  };

  test('a challenge is a fresh single-use nonce, not cached', async () => {
    const response = await fx.post('/challenge', {});
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('cache-control'), 'no-store');
    assert.match(String(response.body.nonce), /^[A-Za-z0-9_-]{54}$/);
    assert.equal(response.body.expires_in, 120);
  });
  test('evidence bound to the challenge and the DPoP key yields a result for that key', async () => {
    const response = await attestWith(a, (audience) => evidence(audience));
    assert.equal(response.status, 200, JSON.stringify(response.body));
    assert.equal(response.body.verdict, 'warning');
    assert.deepEqual(response.body.attestors, { 'oidc-token': { status: 'affirming' }, 'code-digest': { status: 'warning' } });
    const claims = decodeJwt(response.body.attestation as string);
    assert.equal(claims.sub, a.id);
    assert.deepEqual(claims.cnf, { jkt: a.key.jkt });
    assert.equal((claims.exp as number) - (claims.iat as number), FRESHNESS_SECONDS);
  });
  test('/attest without a DPoP proof (ERR_DPOP_MISSING)', async () => {
    const { nonce } = await a.sdk.challenge();
    const response = await fx.postJson('/attest', { ...(await clientAuth(a.agent)), nonce, evidence: await evidence(await evidenceAudience(nonce, a.key.jkt)) });
    assertOAuthError(response, 'ERR_DPOP_MISSING', 'a DPoP proof is required');
  });
  test('a nonce the broker did not issue (ERR_CHALLENGE_INVALID)', async () => {
    const { nonce } = await a.sdk.challenge();
    const forged = (nonce[0] === 'A' ? 'B' : 'A') + nonce.slice(1);
    assertOAuthError(await attestWith(a, (audience) => evidence(audience), forged), 'ERR_CHALLENGE_INVALID', 'the challenge nonce was not issued by this broker');
  });
  test('a nonce used twice (ERR_CHALLENGE_REPLAYED)', async () => {
    const { nonce } = await a.sdk.challenge();
    assert.equal((await attestWith(a, (audience) => evidence(audience), nonce)).status, 200);
    assertOAuthError(await attestWith(a, (audience) => evidence(audience), nonce), 'ERR_CHALLENGE_REPLAYED', 'the challenge nonce was already used');
  });
  test('an expired nonce (ERR_CHALLENGE_EXPIRED)', async () => {
    const { nonce } = await a.sdk.challenge();
    fx.clock.advance(121_000);
    assertOAuthError(await attestWith(a, (audience) => evidence(audience), nonce), 'ERR_CHALLENGE_EXPIRED', 'the challenge nonce has expired: request a new one');
  });
  test('an attestor listed twice (ERR_ATTESTATION_EVIDENCE_INVALID)', async () => {
    const response = await attestWith(a, async (audience) => [...(await evidence(audience)), { attestor: 'code-digest', evidence: { digest: CODE_DIGEST } }]);
    assertOAuthError(response, 'ERR_ATTESTATION_EVIDENCE_INVALID', 'evidence lists code-digest twice');
  });
  test('an attestor that is not enabled (ERR_ATTESTOR_UNKNOWN)', async () => {
    assertOAuthError(await attestWith(a, async () => [{ attestor: 'tpm-quote', evidence: 'x' }]), 'ERR_ATTESTOR_UNKNOWN', "no enabled attestor 'tpm-quote'");
  });
  test('a policy scoped to other agents (ERR_POLICY_AGENT_SCOPE)', async () => {
    const scoped = await newActor({ policy: 'scoped' });
    assertOAuthError(await attestWith(scoped, (audience) => evidence(audience)), 'ERR_POLICY_AGENT_SCOPE', "policy 'scoped' is scoped to other agents");
  });
  test('issuer keys unreachable → 503, not rejected evidence (ERR_OIDC_ISSUER_UNAVAILABLE)', async () => {
    const response = await attestWith(a, async (audience) => [{ attestor: 'oidc-token', evidence: await fx.down.sign({ aud: audience }) }, { attestor: 'code-digest', evidence: { digest: CODE_DIGEST } }]);
    assertOAuthError(response, 'ERR_OIDC_ISSUER_UNAVAILABLE', `the keys of ${fx.down.issuer} could not be fetched`);
  });
  test('a token that is not a JWT (ERR_OIDC_TOKEN_MALFORMED)', async () => {
    await rejectedFor(await attestWith(a, async () => [{ attestor: 'oidc-token', evidence: 'not-a-jwt' }, { attestor: 'code-digest', evidence: { digest: CODE_DIGEST } }]), 'ERR_OIDC_TOKEN_MALFORMED');
  });
  test('a token from an issuer not configured (ERR_OIDC_TOKEN_ISSUER)', async () => {
    await rejectedFor(await attestWith(a, (audience) => evidence(audience, { iss: 'https://unknown.example' })), 'ERR_OIDC_TOKEN_ISSUER');
  });
  test('a token signed with an algorithm the issuer is not allowed (ERR_OIDC_TOKEN_ALG)', async () => {
    const items = async (audience: string) => [{ attestor: 'oidc-token', evidence: await fx.oidc.sign({ aud: audience }, { alg: 'ES256' }) }, { attestor: 'code-digest', evidence: { digest: CODE_DIGEST } }];
    await rejectedFor(await attestWith(a, items), 'ERR_OIDC_TOKEN_ALG');
  });
  test('an access token (typ at+jwt) as identity evidence (ERR_OIDC_TOKEN_TYP)', async () => {
    const items = async (audience: string) => [{ attestor: 'oidc-token', evidence: await fx.oidc.sign({ aud: audience }, { typ: 'at+jwt' }) }, { attestor: 'code-digest', evidence: { digest: CODE_DIGEST } }];
    await rejectedFor(await attestWith(a, items), 'ERR_OIDC_TOKEN_TYP');
  });
  test('a token signed by a key the issuer does not publish (ERR_OIDC_TOKEN_SIGNATURE)', async () => {
    const items = async (audience: string) => [{ attestor: 'oidc-token', evidence: await fx.oidc.sign({ aud: audience }, { foreignKey: true }) }, { attestor: 'code-digest', evidence: { digest: CODE_DIGEST } }];
    await rejectedFor(await attestWith(a, items), 'ERR_OIDC_TOKEN_SIGNATURE');
  });
  test('an expired token (ERR_OIDC_TOKEN_EXPIRED)', async () => {
    await rejectedFor(await attestWith(a, (audience) => evidence(audience, { exp: nowSeconds() - 60 })), 'ERR_OIDC_TOKEN_EXPIRED');
  });
  test('a token not valid yet (ERR_OIDC_TOKEN_NOT_YET_VALID)', async () => {
    await rejectedFor(await attestWith(a, (audience) => evidence(audience, { nbf: nowSeconds() + 120 })), 'ERR_OIDC_TOKEN_NOT_YET_VALID');
  });
  test('a token issued in the future (ERR_OIDC_TOKEN_IAT)', async () => {
    await rejectedFor(await attestWith(a, (audience) => evidence(audience, { iat: nowSeconds() + 120 })), 'ERR_OIDC_TOKEN_IAT');
  });
  test('a token for another audience than the challenge binding (ERR_OIDC_TOKEN_AUDIENCE)', async () => {
    await rejectedFor(await attestWith(a, () => evidence('mandate:someone-else')), 'ERR_OIDC_TOKEN_AUDIENCE');
  });
  test('a token whose jti was already used (ERR_OIDC_TOKEN_REPLAYED)', async () => {
    const jti = randomBytes(8).toString('hex');
    assert.equal((await attestWith(a, (audience) => evidence(audience, { jti }))).status, 200);
    await rejectedFor(await attestWith(a, (audience) => evidence(audience, { jti })), 'ERR_OIDC_TOKEN_REPLAYED');
  });
  test('a code digest that is not sha256 (ERR_CODE_DIGEST_MALFORMED)', async () => {
    await rejectedFor(await attestWith(a, (audience) => evidence(audience, {}, { digest: `sha1:${'a'.repeat(40)}` })), 'ERR_CODE_DIGEST_MALFORMED');
  });
  test('an attestor the policy requires is missing (ERR_POLICY_ATTESTOR_MISSING)', async () => {
    await rejectedFor(await attestWith(a, async (audience) => (await evidence(audience)).slice(0, 1)), 'ERR_POLICY_ATTESTOR_MISSING');
  });
  test('a pinned claim differs (ERR_POLICY_CLAIM_MISMATCH)', async () => {
    await rejectedFor(await attestWith(a, (audience) => evidence(audience, { repository_id: '1' })), 'ERR_POLICY_CLAIM_MISMATCH');
  });
  test('replayable evidence (fixed audience) is only a warning: below the policy (ERR_POLICY_STATUS_TOO_LOW)', async () => {
    await rejectedFor(await attestWith(a, () => evidence(FIXED_AUDIENCE)), 'ERR_POLICY_STATUS_TOO_LOW');
  });
  test('claims the policy requires to be equal differ (ERR_POLICY_EQUALITY)', async () => {
    const equal = await newActor({ policy: 'equal' });
    const response = await attestWith(equal, (audience) => evidence(audience));
    assertOAuthError(response, 'ERR_ATTESTATION_REJECTED', 'the evidence does not satisfy the attestation policy');
    const event = (await fx.auditEvents(5)).reverse().find((e) => e.type === 'attestation.rejected' && e.actor === equal.id);
    assert.ok((event?.data as { failures: string[] }).failures.includes('ERR_POLICY_EQUALITY'), JSON.stringify(event));
  });
  test('contraindicated evidence → each owner of the agent gets an attestation.contraindicated notification (ERR_ATTESTATION_CONTRAINDICATED)', async () => {
    const owned = await newActor({ owners: [fx.alice.id, fx.bob.id] });
    const response = await attestWith(owned, (audience) => evidence(audience, {}, { digest: CONTRAINDICATED_DIGEST }));
    assertOAuthError(response, 'ERR_ATTESTATION_CONTRAINDICATED', 'an attestor reported contraindicated evidence');
    const event = (await fx.auditEvents(5)).reverse().find((e) => e.type === 'attestation.rejected' && e.actor === owned.id);
    const { attestation_id: attestationId, verdict } = event!.data as { attestation_id: string; verdict: string };
    assert.equal(verdict, 'contraindicated');
    // The notifier delivers at once (outbox → live pages, webhooks), so read each human's inbox, not the pending outbox.
    const notified = (await Promise.all([fx.alice.id, fx.bob.id].map((id) => fx.app.store.notifications.listForRecipient(id, { limit: 10_000 })))).flat()
      .filter((n) => n.kind === 'attestation.contraindicated' && n.payload.agent_id === owned.id)
      .map((n) => ({ recipient: n.recipient, payload: n.payload }))
      .sort((x, y) => (x.recipient < y.recipient ? -1 : 1));
    const expected = [fx.alice.id, fx.bob.id].sort().map((recipient) => ({ recipient, payload: { agent_id: owned.id, attestation_id: attestationId } }));
    assert.deepEqual(notified, expected);
  });
});

// ─── §4 asking: /bc-authorize ───

describe('§4 /bc-authorize', () => {
  let a: Actor;
  before(async () => {
    a = await newActor();
  });
  const withDetails = (value: unknown) => ({ authorization_details: typeof value === 'string' ? value : JSON.stringify(value) });

  test('a valid request: auth_req_id, expires_in, interval; scope is accepted and ignored', async () => {
    const response = await ask(a, { scope: 'openid whatever' });
    assert.equal(response.status, 200, JSON.stringify(response.body));
    assert.deepEqual(Object.keys(response.body).sort(), ['auth_req_id', 'expires_in', 'interval']);
    assert.match(String(response.body.auth_req_id), /^[A-Za-z0-9_-]{43}$/);
    assert.equal(response.body.expires_in, 600);
    assert.equal(response.body.interval, 1);
    assert.equal(response.headers.get('cache-control'), 'no-store');
    const mandate = await fx.app.loop.decisions.get(await fx.pendingMandateOf(a.id));
    assert.notEqual(mandate.authReqIdHash, response.body.auth_req_id, 'auth_req_id is stored hashed');
    assert.equal(mandate.dpopJkt, a.key.jkt);
  });
  test('login_hint not an approver and an unknown user get the identical unknown_user_id (ERR_ASK_UNKNOWN_USER)', async () => {
    const notApprover = await ask(a, { login_hint: fx.bob.id });
    const unknown = await ask(a, { login_hint: 'usr_QQQQQQQQQQQQQQQQQQQQQQ' });
    assertOAuthError(notApprover, 'ERR_ASK_UNKNOWN_USER', 'login_hint is not an approver of this agent');
    assert.deepEqual(unknown.body, notApprover.body);
    assert.equal(unknown.status, notApprover.status);
  });
  test('a binding_message with control characters (ERR_ASK_BINDING_MESSAGE)', async () => {
    assertOAuthError(await ask(a, { binding_message: 'approve\u0007me' }), 'ERR_ASK_BINDING_MESSAGE', 'binding_message must be 1-128 printable characters');
  });
  test('a binding_message over the length cap', async () => {
    assertOAuthError(await ask(a, { binding_message: 'x'.repeat(129) }), 'ERR_ASK_BINDING_MESSAGE', 'binding_message must be 1-128 printable characters');
  });
  test('authorization_details that are not JSON (ERR_ASK_AUTHORIZATION_DETAILS)', async () => {
    assertOAuthError(await ask(a, withDetails('[{')), 'ERR_ASK_AUTHORIZATION_DETAILS', 'authorization_details is not JSON');
  });
  test('authorization_details with two objects', async () => {
    assertOAuthError(await ask(a, withDetails([task(), task()])), 'ERR_ASK_AUTHORIZATION_DETAILS', 'authorization_details must hold exactly one object');
  });
  test('authorization_details for an unknown audience', async () => {
    assertOAuthError(await ask(a, withDetails([task({ locations: ['https://unknown.example.com'] })])), 'ERR_ASK_AUTHORIZATION_DETAILS', 'locations[0] is not a registered audience');
  });
  test('locations naming an Object.prototype member (constructor, __proto__, toString) is no audience, never a 5xx', async () => {
    for (const location of PROTOTYPE_NAMES)
      assertOAuthError(await ask(a, withDetails([task({ locations: [location] })])), 'ERR_ASK_AUTHORIZATION_DETAILS', 'locations[0] is not a registered audience');
  });
  test('an action the audience does not allow', async () => {
    assertOAuthError(await ask(a, withDetails([task({ locations: [OTHER_API], actions: ['write'] })])), 'ERR_ASK_AUTHORIZATION_DETAILS', `action write is not allowed at ${OTHER_API}`);
  });
  test('constraints.notAfter in the past', async () => {
    assertOAuthError(await ask(a, withDetails([task({ constraints: { notAfter: nowSeconds() - 1 } })])), 'ERR_ASK_AUTHORIZATION_DETAILS', 'constraints.notAfter must be in the future');
  });
  test('constraints.notAfter missing', async () => {
    assertOAuthError(await ask(a, withDetails([task({ constraints: {} })])), 'ERR_ASK_AUTHORIZATION_DETAILS', /^authorization_details: constraints\.notAfter /);
  });
  test('authorization_details missing', async () => {
    assertOAuthError(await ask(a, { authorization_details: undefined }), 'ERR_ASK_AUTHORIZATION_DETAILS', 'authorization_details is required');
  });
  test('no DPoP key: neither a proof nor dpop_jkt (ERR_ASK_DPOP_KEY)', async () => {
    assertOAuthError(await ask(a, {}, {}), 'ERR_ASK_DPOP_KEY', 'send a DPoP proof or a dpop_jkt parameter');
  });
  test('dpop_jkt differs from the proof key', async () => {
    const other = await generateDpopKey();
    assertOAuthError(await ask(a, { dpop_jkt: other.jkt }), 'ERR_ASK_DPOP_KEY', 'dpop_jkt does not match the DPoP proof key');
  });
  test('dpop_jkt alone pins the key (RFC 9449 §10)', async () => {
    const b = await newActor();
    const response = await ask(b, { dpop_jkt: b.key.jkt }, {});
    assert.equal(response.status, 200, JSON.stringify(response.body));
    assert.equal((await fx.app.loop.decisions.get(await fx.pendingMandateOf(b.id))).dpopJkt, b.key.jkt);
  });
  test('no attestation (ERR_ASK_ATTESTATION)', async () => {
    assertOAuthError(await ask(a, { attestation: undefined }), 'ERR_ASK_ATTESTATION', 'the attestation parameter is required');
  });
  test('a stale attestation (ERR_ATTESTATION_STALE)', async () => {
    const stale = await attestation(a);
    fx.clock.advance((FRESHNESS_SECONDS + 1) * 1000);
    assertOAuthError(await ask(a, { attestation: stale }), 'ERR_ASK_ATTESTATION', 'the attestation result has expired: attest again', mandateErrorOf('ERR_ATTESTATION_STALE'));
  });
  test('an attestation bound to another DPoP key (ERR_ATTESTATION_KEY_MISMATCH)', async () => {
    const sameAgentOtherKey = await newActor(undefined, a.agent);
    assertOAuthError(await ask(a, { attestation: await attestation(sameAgentOtherKey) }), 'ERR_ASK_ATTESTATION', 'cnf.jkt is not the DPoP key of this request', mandateErrorOf('ERR_ATTESTATION_KEY_MISMATCH'));
  });
  test('an attestation of another agent (ERR_ATTESTATION_SUBJECT_MISMATCH)', async () => {
    const other = await newActor();
    assertOAuthError(await ask(a, { attestation: await attestation(other) }), 'ERR_ASK_ATTESTATION', 'the result was issued to another agent', mandateErrorOf('ERR_ATTESTATION_SUBJECT_MISMATCH'));
  });
  test('requested_expiry is capped at ciba.maxRequestedExpiry', async () => {
    const b = await newActor();
    const response = await ask(b, { requested_expiry: '999999' });
    assert.equal(response.status, 200, JSON.stringify(response.body));
    assert.equal(response.body.expires_in, 3600);
  });
  test('requested_expiry that is not a positive number (ERR_ASK_REQUESTED_EXPIRY)', async () => {
    assertOAuthError(await ask(a, { requested_expiry: '-5' }), 'ERR_ASK_REQUESTED_EXPIRY', 'requested_expiry must be a positive whole number of seconds');
  });
  test('pending requests per agent are rate-limited (ERR_ASK_TOO_MANY_PENDING)', async () => {
    const b = await newActor();
    for (let i = 0; i < MAX_PENDING; i += 1) assert.equal((await ask(b)).status, 200);
    assertOAuthError(await ask(b), 'ERR_ASK_TOO_MANY_PENDING', 'this agent has too many pending requests');
  });
});

// ─── §4 CIBA polling ───

describe('§4 CIBA polling at /token', () => {
  test('an undecided request → authorization_pending (ERR_CIBA_PENDING)', async () => {
    const a = await newActor();
    const { authReqId } = await pending(a);
    assertOAuthError(await poll(a, authReqId), 'ERR_CIBA_PENDING', 'the approver has not decided yet');
  });
  test('polling faster than the interval → slow_down, and the interval grows by 5 s (ERR_CIBA_SLOW_DOWN)', async () => {
    const a = await newActor();
    const { authReqId } = await pending(a);
    fx.clock.freeze();
    try {
      assertOAuthError(await poll(a, authReqId), 'ERR_CIBA_PENDING', 'the approver has not decided yet');
      fx.clock.advance(500); // within the 1 s interval
      assertOAuthError(await poll(a, authReqId), 'ERR_CIBA_SLOW_DOWN', 'poll at most every 6 s');
      fx.clock.advance(5_500); // beyond the old 1 s interval, within the new 6 s
      assertOAuthError(await poll(a, authReqId), 'ERR_CIBA_SLOW_DOWN', 'poll at most every 11 s');
      fx.clock.advance(11_000);
      assertOAuthError(await poll(a, authReqId), 'ERR_CIBA_PENDING', 'the approver has not decided yet');
    } finally {
      fx.clock.thaw();
    }
  });
  test('a denied request → access_denied once, then invalid_grant (ERR_CIBA_DENIED)', async () => {
    const a = await newActor();
    const { authReqId, mandateId } = await pending(a);
    assert.equal((await fx.adminApi('POST', `/admin/v1/mandates/${mandateId}/deny`, fx.secrets.alice)).status, 200);
    assertOAuthError(await poll(a, authReqId), 'ERR_CIBA_DENIED', 'the approver denied the request');
    assertOAuthError(await poll(a, authReqId), 'ERR_CIBA_INVALID_GRANT', 'unknown auth_req_id');
  });
  test('a request that expired undecided → expired_token (ERR_CIBA_EXPIRED)', async () => {
    const a = await newActor();
    const { authReqId } = await pending(a, { requested_expiry: '5' });
    fx.clock.advance(6_000);
    assertOAuthError(await poll(a, authReqId), 'ERR_CIBA_EXPIRED', 'the request expired before a decision');
  });
  test('an approved request not collected within expires_in → expired_token (ERR_CIBA_EXPIRED)', async () => {
    const a = await newActor();
    const { authReqId, mandateId } = await pending(a, { requested_expiry: '5' });
    await approve(mandateId);
    fx.clock.advance(6_000);
    assertOAuthError(await poll(a, authReqId), 'ERR_CIBA_EXPIRED', 'the request expired before it was collected');
    assert.equal((await fx.app.loop.decisions.get(mandateId)).status, 'expired');
  });
  test('an unknown auth_req_id → invalid_grant (ERR_CIBA_INVALID_GRANT)', async () => {
    const a = await newActor();
    assertOAuthError(await poll(a, randomBytes(32).toString('base64url')), 'ERR_CIBA_INVALID_GRANT', 'unknown auth_req_id');
  });
  test("another agent's auth_req_id → invalid_grant", async () => {
    const a = await newActor();
    const thief = await newActor();
    const { authReqId, mandateId } = await pending(a);
    await approve(mandateId);
    assertOAuthError(await poll(thief, authReqId), 'ERR_CIBA_INVALID_GRANT', 'unknown auth_req_id');
  });
  test('an already redeemed auth_req_id → invalid_grant', async () => {
    const a = await newActor();
    const { authReqId, mandateId } = await pending(a);
    await approve(mandateId);
    assert.equal((await poll(a, authReqId)).status, 200);
    assertOAuthError(await poll(a, authReqId), 'ERR_CIBA_INVALID_GRANT', 'unknown auth_req_id');
  });
  test('a proof by a key other than the pinned one → invalid_grant (ERR_CIBA_DPOP_KEY)', async () => {
    const a = await newActor();
    const { authReqId, mandateId } = await pending(a);
    await approve(mandateId);
    assertOAuthError(await poll(a, authReqId, (await generateDpopKey())), 'ERR_CIBA_DPOP_KEY', 'the DPoP proof is not by the key pinned at /bc-authorize');
  });
  test('on approval: the first token and the mandate grant, DPoP-bound to the pinned key', async () => {
    const a = await newActor();
    const { authReqId, mandateId } = await pending(a);
    await approve(mandateId);
    const response = await poll(a, authReqId);
    assert.equal(response.status, 200, JSON.stringify(response.body));
    assert.deepEqual(Object.keys(response.body).sort(), ['access_token', 'authorization_details', 'expires_in', 'refresh_token', 'token_type']);
    assert.equal(response.body.token_type, 'DPoP');
    assert.match(String(response.body.refresh_token), /^mgr_[A-Za-z0-9_-]{43}$/);
    assert.equal((decodeJwt(response.body.access_token as string).cnf as { jkt: string }).jkt, a.key.jkt);
    assert.equal(response.headers.get('cache-control'), 'no-store');
  });
  test('when the request attestation went stale, the poll needs a fresh one (ERR_MINT_ATTESTATION_STALE)', async () => {
    const a = await newActor();
    const { authReqId, mandateId } = await pending(a);
    await approve(mandateId);
    fx.clock.advance((FRESHNESS_SECONDS + 1) * 1000);
    assertOAuthError(await poll(a, authReqId), 'ERR_MINT_ATTESTATION_STALE', 'the attestation from the request is stale: send a fresh one in OAuth-Client-Attestation', 'attestation_stale');
    const fresh = { 'oauth-client-attestation': await attestation(a), 'oauth-client-attestation-pop': await attestationPop(a) };
    assert.equal((await poll(a, authReqId, a.key, fresh)).status, 200);
  });
  test('a stale attestation in the OAuth-Client-Attestation header → attestation_stale', async () => {
    const a = await newActor();
    const { authReqId, mandateId } = await pending(a);
    await approve(mandateId);
    const stale = await attestation(a);
    fx.clock.advance((FRESHNESS_SECONDS + 1) * 1000);
    const headers = { 'oauth-client-attestation': stale, 'oauth-client-attestation-pop': await attestationPop(a) };
    assertOAuthError(await poll(a, authReqId, a.key, headers), 'ERR_MINT_ATTESTATION_STALE', 'the attestation result has expired: attest again', 'attestation_stale');
  });
  test('resource servers may refuse approvals made with an admin token (§4)', async () => {
    const a = await newActor();
    const { token } = await activeMandate(a);
    const strict = await startResourceServer(fx, { acceptAdminTokenApprovals: false });
    try {
      const url = `${strict.url}/items`;
      const response = await fetch(url, { headers: { authorization: `DPoP ${token}`, dpop: await fx.proof(a.key, url, { ath: sha256(token) }, 'GET') } });
      assert.equal(response.status, 403);
      assert.match(String(response.headers.get('www-authenticate')), /^DPoP error="insufficient_scope", error_description="tasks approved with an admin token are not accepted here"/);
    } finally {
      await strict.close();
    }
  });
});

// ─── §5 minting by token exchange ───

describe('§5 token exchange', () => {
  let a: Actor;
  let active: Active;
  before(async () => {
    a = await newActor();
    active = await activeMandate(a);
  });

  test('grant + fresh attestation → a DPoP-bound access token', async () => {
    const response = await exchange(a, active.grant);
    assert.equal(response.status, 200, JSON.stringify(response.body));
    assert.deepEqual(Object.keys(response.body).sort(), ['access_token', 'authorization_details', 'expires_in', 'issued_token_type', 'token_type']);
    assert.equal(response.body.issued_token_type, TOKEN_TYPE.accessToken);
    assert.equal(response.body.token_type, 'DPoP');
    assert.ok(response.headers.get('dpop-nonce'), 'every /token response carries a DPoP-Nonce');
  });
  test('a subject token type other than refresh_token (ERR_TOKEN_TYPE_UNSUPPORTED)', async () => {
    assertOAuthError(await exchange(a, active.grant, { subject_token_type: TOKEN_TYPE.accessToken }), 'ERR_TOKEN_TYPE_UNSUPPORTED', `subject_token_type must be ${TOKEN_TYPE.refreshToken}`);
  });
  test('an actor token type other than jwt', async () => {
    assertOAuthError(await exchange(a, active.grant, { actor_token_type: TOKEN_TYPE.accessToken }), 'ERR_TOKEN_TYPE_UNSUPPORTED', `actor_token_type must be ${TOKEN_TYPE.jwt}`);
  });
  test('an unknown grant → invalid_request grant_invalid (ERR_MINT_SUBJECT_TOKEN)', async () => {
    assertOAuthError(await exchange(a, `mgr_${randomBytes(32).toString('base64url')}`), 'ERR_MINT_SUBJECT_TOKEN', 'subject_token is not a mandate grant', 'grant_invalid');
  });
  test("another agent's grant → client_mismatch (ERR_MINT_CLIENT_MISMATCH)", async () => {
    const thief = await newActor();
    assertOAuthError(await exchange(thief, active.grant), 'ERR_MINT_CLIENT_MISMATCH', 'the mandate belongs to another agent', 'client_mismatch');
  });
  test('no actor token (ERR_MINT_ACTOR_TOKEN)', async () => {
    assertOAuthError(await exchange(a, active.grant, { actor_token: undefined }), 'ERR_MINT_ACTOR_TOKEN', 'an attestation result is required', 'attestation_missing');
  });
  test('an actor token of another agent (ERR_ATTESTATION_SUBJECT_MISMATCH)', async () => {
    const other = await newActor();
    assertOAuthError(await exchange(a, active.grant, { actor_token: await attestation(other) }), 'ERR_MINT_ACTOR_TOKEN', 'the result was issued to another agent', mandateErrorOf('ERR_ATTESTATION_SUBJECT_MISMATCH'));
  });
  test("an actor token whose cnf.jkt is not the proof's key (ERR_ATTESTATION_KEY_MISMATCH)", async () => {
    const rotated = await generateDpopKey();
    assertOAuthError(await exchange(a, active.grant, {}, rotated), 'ERR_MINT_ACTOR_TOKEN', 'cnf.jkt is not the DPoP key of this request', mandateErrorOf('ERR_ATTESTATION_KEY_MISMATCH'));
  });
  test('an actor token that is not a JWS (ERR_ATTESTATION_INVALID)', async () => {
    assertOAuthError(await exchange(a, active.grant, { actor_token: 'not-a-jws' }), 'ERR_MINT_ACTOR_TOKEN', 'not a compact JWS: not a compact JWS', mandateErrorOf('ERR_ATTESTATION_INVALID'));
  });
  test('an access token as actor token (ERR_ATTESTATION_TYP)', async () => {
    assertOAuthError(await exchange(a, active.grant, { actor_token: active.token }), 'ERR_MINT_ACTOR_TOKEN', 'typ must be attestation-result+jwt', mandateErrorOf('ERR_ATTESTATION_TYP'));
  });
  test('an actor token with a tampered payload (ERR_ATTESTATION_SIGNATURE)', async () => {
    const [header, payload, signature] = (await attestation(a)).split('.');
    const tampered = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload!, 'base64url').toString()), verdict: 'affirming' })).toString('base64url');
    assertOAuthError(await exchange(a, active.grant, { actor_token: `${header}.${tampered}.${signature}` }), 'ERR_MINT_ACTOR_TOKEN', 'signature does not verify', mandateErrorOf('ERR_ATTESTATION_SIGNATURE'));
  });
  test('an actor token of another issuer, even under this key (ERR_ATTESTATION_ISSUER)', async () => {
    assertOAuthError(await exchange(a, active.grant, { actor_token: forgedResult(a, { iss: 'https://other-broker.example' }) }), 'ERR_MINT_ACTOR_TOKEN', 'iss and aud must be this broker', mandateErrorOf('ERR_ATTESTATION_ISSUER'));
  });
  test('a contraindicated result is refused even if signed (ERR_ATTESTATION_CONTRAINDICATED)', async () => {
    assertOAuthError(await exchange(a, active.grant, { actor_token: forgedResult(a, { verdict: 'contraindicated' }) }), 'ERR_MINT_ACTOR_TOKEN', 'the attestation is contraindicated', mandateErrorOf('ERR_ATTESTATION_CONTRAINDICATED'));
  });
  test('a stale attestation → attestation_stale (ERR_MINT_ATTESTATION_STALE)', async () => {
    const stale = await attestation(a);
    fx.clock.advance((FRESHNESS_SECONDS + 1) * 1000);
    assertOAuthError(await exchange(a, active.grant, { actor_token: stale }), 'ERR_MINT_ATTESTATION_STALE', 'the attestation result has expired: attest again', 'attestation_stale');
  });
  test('no resource → invalid_target (ERR_MINT_TARGET)', async () => {
    assertOAuthError(await exchange(a, active.grant, { resource: undefined }), 'ERR_MINT_TARGET', 'exactly one resource is required');
  });
  test('two resources → invalid_target', async () => {
    assertOAuthError(await exchange(a, active.grant, { resource: [API, OTHER_API] }), 'ERR_MINT_TARGET', 'exactly one resource is required');
  });
  test('a resource that is not the mandate audience → invalid_target', async () => {
    assertOAuthError(await exchange(a, active.grant, { resource: OTHER_API }), 'ERR_MINT_TARGET', 'resource is not the audience of this mandate');
  });
  test('narrower authorization_details are honoured', async () => {
    const b = await newActor();
    const wide = await activeMandate(b, { actions: ['read', 'write'] });
    const response = await exchange(b, wide.grant, { authorization_details: JSON.stringify([await approvedTask(wide.mandateId, { actions: ['read'] })]) });
    assert.equal(response.status, 200, JSON.stringify(response.body));
    assert.deepEqual((decodeJwt(response.body.access_token as string).authorization_details as Array<{ actions: string[] }>)[0]!.actions, ['read']);
  });
  test('widened authorization_details → invalid_authorization_details (ERR_MINT_WIDENING)', async () => {
    const response = await exchange(a, active.grant, { authorization_details: JSON.stringify([task({ actions: ['read', 'write'] })]) });
    assertOAuthError(response, 'ERR_MINT_WIDENING', 'authorization_details widen the mandate (actions)', 'widening_actions');
  });
  test('narrower authorization_details with another purpose → widening_purpose', async () => {
    const narrower = await approvedTask(active.mandateId, { purpose: 'Read the items and something else' });
    const response = await exchange(a, active.grant, { authorization_details: JSON.stringify([narrower]) });
    assertOAuthError(response, 'ERR_MINT_WIDENING', 'authorization_details widen the mandate (purpose)', 'widening_purpose');
  });
  test('a mandate approved without datatypes (any datatype) narrows to one the audience allows', async () => {
    const b = await newActor();
    const any = await activeMandate(b);
    const response = await exchange(b, any.grant, { authorization_details: JSON.stringify([await approvedTask(any.mandateId, { datatypes: ['items'] })]) });
    assert.equal(response.status, 200, JSON.stringify(response.body));
    assert.deepEqual((decodeJwt(response.body.access_token as string).authorization_details as Array<{ datatypes: string[] }>)[0]!.datatypes, ['items']);
  });
  test('a mandate approved with datatypes narrowed to none (any datatype) → widening_datatypes', async () => {
    const b = await newActor();
    const typed = await activeMandate(b, { datatypes: ['items'] });
    for (const datatypes of [undefined, []]) {
      const response = await exchange(b, typed.grant, { authorization_details: JSON.stringify([await approvedTask(typed.mandateId, { datatypes })]) });
      assertOAuthError(response, 'ERR_MINT_WIDENING', 'authorization_details widen the mandate (datatypes)', 'widening_datatypes');
    }
  });
  test('authorization_details naming an Object.prototype member as location → invalid_authorization_details, never a 5xx', async () => {
    for (const location of PROTOTYPE_NAMES) {
      const response = await exchange(a, active.grant, { authorization_details: JSON.stringify([await approvedTask(active.mandateId, { locations: [location] })]) });
      assertOAuthError(response, 'ERR_MINT_WIDENING', 'locations[0] is not a registered audience');
    }
  });
  test('a revoked mandate → mandate_revoked (ERR_MINT_MANDATE_INACTIVE)', async () => {
    const b = await newActor();
    const revoked = await activeMandate(b);
    assert.equal((await fx.adminApi('POST', `/admin/v1/mandates/${revoked.mandateId}/revoke`, fx.secrets.alice, { reason: 'test' })).status, 200);
    assertOAuthError(await exchange(b, revoked.grant), 'ERR_MINT_MANDATE_INACTIVE', 'the mandate is revoked', 'mandate_revoked');
  });
  test('an exhausted mandate → mandate_exhausted; maxUses counts the first CIBA token', async () => {
    const b = await newActor();
    const limited = await activeMandate(b, { constraints: { notAfter: nowSeconds() + 3600, maxUses: 2 } });
    const last = await exchange(b, limited.grant);
    assert.equal(last.status, 200);
    // PROTOCOL §5: at zero the mandate is exhausted at once; the last token stays valid until exp.
    assert.equal((await fx.app.loop.decisions.get(limited.mandateId)).status, 'exhausted');
    assert.equal((await introspect(last.body.access_token as string)).body.active, true);
    assertOAuthError(await exchange(b, limited.grant), 'ERR_MINT_MANDATE_INACTIVE', 'the mandate is exhausted', 'mandate_exhausted');
  });
  test('an expired mandate → mandate_expired', async () => {
    const b = await newActor();
    const short = await activeMandate(b, { constraints: { notAfter: nowSeconds() + 30 } });
    fx.clock.advance(31_000);
    assertOAuthError(await exchange(b, short.grant), 'ERR_MINT_MANDATE_INACTIVE', 'the mandate is expired', 'mandate_expired');
  });
  test('a suspended mandate → mandate_suspended', async () => {
    const b = await newActor();
    const suspended = await activeMandate(b);
    // PROTOCOL §3: contraindicated evidence suspends the agent's mandates (no v1 attestor reports it, so the cascade is called directly).
    await fx.app.loop.revocation.suspendAgentMandates(b.id, { actor: b.id, requestId: 'req_AAAAAAAAAAAAAAAAAAAAAA' });
    assertOAuthError(await exchange(b, suspended.grant), 'ERR_MINT_MANDATE_INACTIVE', 'the mandate is suspended', 'mandate_suspended');
  });
  test('grant_type=refresh_token → unsupported_grant_type (ERR_GRANT_TYPE_UNSUPPORTED)', async () => {
    const response = await fx.post('/token', { grant_type: GRANT_TYPE.refreshToken, refresh_token: active.grant, ...(await clientAuth(a.agent)) }, await dpop(a, '/token'));
    assertOAuthError(response, 'ERR_GRANT_TYPE_UNSUPPORTED', 'grant_type refresh_token is not supported');
  });
  test('an unknown grant_type → unsupported_grant_type', async () => {
    assertOAuthError(await fx.post('/token', { grant_type: 'password', ...(await clientAuth(a.agent)) }), 'ERR_GRANT_TYPE_UNSUPPORTED', 'grant_type password is not supported');
  });
});

// ─── §5 client_credentials (autonomous agents) ───

describe('§5 client_credentials', () => {
  let main: Actor;
  before(async () => {
    main = await newActor(undefined, fx.agent);
  });

  test('the opted-in agent gets a token with sub = agent, no act, sub_profile ai_agent', async () => {
    const response = await clientCredentials(main);
    assert.equal(response.status, 200, JSON.stringify(response.body));
    const claims = decodeJwt(response.body.access_token as string);
    assert.equal(claims.sub, main.id);
    assert.equal(claims.act, undefined);
    assert.equal(claims.sub_profile, 'ai_agent');
    assert.equal(claims.aud, AUTO_API);
    assert.deepEqual(claims.cnf, { jkt: main.key.jkt });
    assert.deepEqual(claims.authorization_details, [{ type: 'agent-task', locations: [AUTO_API], actions: ['read'] }]);
    const introspected = await introspect(response.body.access_token as string, AUTO_API);
    assert.equal(introspected.body.active, true);
    assert.equal(introspected.body.sub_profile, 'ai_agent');
    assert.equal(introspected.body.act, undefined);
  });
  test('the SDK verifier refuses autonomous tokens unless the resource server opts in', async () => {
    const client = fx.agent.client();
    await client.mintAutonomous({ resource: AUTO_API });
    const strict = await startResourceServer(fx, { audience: AUTO_API });
    const open = await startResourceServer(fx, { audience: AUTO_API, acceptAutonomous: true });
    try {
      const refused = await client.fetch(`${strict.url}/items`, { resource: AUTO_API });
      assert.equal(refused.status, 403);
      assert.match(String(refused.headers.get('www-authenticate')), /^DPoP error="insufficient_scope", error_description="autonomous agent tokens are not accepted here"/);
      const accepted = await client.fetch(`${open.url}/items`, { resource: AUTO_API });
      assert.equal(accepted.status, 200);
      assert.deepEqual(await accepted.json(), { agent: main.id, subject: main.id, autonomous: true });
    } finally {
      await strict.close();
      await open.close();
    }
  });
  test('an agent the audience did not opt in → unauthorized_client (ERR_MINT_UNAUTHORIZED_CLIENT)', async () => {
    const other = await newActor();
    assertOAuthError(await clientCredentials(other), 'ERR_MINT_UNAUTHORIZED_CLIENT', 'this audience does not accept autonomous tokens from this agent');
  });
  test('an audience without autonomous opt-in → unauthorized_client', async () => {
    assertOAuthError(await clientCredentials(main, undefined, API), 'ERR_MINT_UNAUTHORIZED_CLIENT', 'this audience does not accept autonomous tokens from this agent');
  });
  test('an unknown resource → invalid_target', async () => {
    assertOAuthError(await clientCredentials(main, undefined, 'https://unknown.example.com'), 'ERR_MINT_TARGET', 'resource is not a registered audience');
  });
  test('a resource naming an Object.prototype member → invalid_target, never a 5xx', async () => {
    for (const resource of PROTOTYPE_NAMES)
      assertOAuthError(await clientCredentials(main, undefined, resource), 'ERR_MINT_TARGET', 'resource is not a registered audience');
  });
  test('no OAuth-Client-Attestation headers → attestation_missing', async () => {
    assertOAuthError(await clientCredentials(main, {}), 'ERR_MINT_ACTOR_TOKEN', 'the OAuth-Client-Attestation header is required', 'attestation_missing');
  });
  test('a PoP signed by another key than the DPoP key → attestation_pop_invalid', async () => {
    const headers = { 'oauth-client-attestation': await attestation(main), 'oauth-client-attestation-pop': await attestationPop(main, await generateDpopKey()) };
    assertOAuthError(await clientCredentials(main, headers), 'ERR_MINT_ACTOR_TOKEN', 'attestation PoP: signature does not verify', 'attestation_pop_invalid');
  });
});

// ─── §6 DPoP at /token ───

describe('§6 DPoP proofs at /token', () => {
  let a: Actor;
  let active: Active;
  before(async () => {
    a = await newActor();
    active = await activeMandate(a);
  });
  const exchangeWith = async (proof: string | undefined) => {
    const form = {
      ...(await clientAuth(a.agent)), grant_type: GRANT_TYPE.tokenExchange, subject_token: active.grant, subject_token_type: TOKEN_TYPE.refreshToken,
      actor_token: await attestation(a), actor_token_type: TOKEN_TYPE.jwt, resource: API,
    };
    return fx.post('/token', form, proof === undefined ? {} : { dpop: proof });
  };
  /** A proof with a chosen header, signed by `signer` (the proof key by default). */
  const proofWith = async (header: Record<string, unknown>, signer: CryptoKey = a.key.pair.privateKey, claims: Record<string, unknown> = {}) =>
    new SignJWT({ jti: randomBytes(12).toString('base64url'), htm: 'POST', htu: `${fx.issuer}/token`, iat: nowSeconds(), ...claims })
      .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk: a.key.publicJwk, ...header } as never)
      .sign(signer);

  test('no proof (ERR_DPOP_MISSING), and the error still carries a DPoP-Nonce', async () => {
    const response = await exchangeWith(undefined);
    assertOAuthError(response, 'ERR_DPOP_MISSING', 'a DPoP proof is required');
    assert.ok(response.headers.get('dpop-nonce'), 'every /token response carries a DPoP-Nonce');
  });
  test('a proof that is not a JWS (ERR_DPOP_MALFORMED)', async () => {
    assertOAuthError(await exchangeWith('not-a-proof'), 'ERR_DPOP_MALFORMED', 'not a compact JWS');
  });
  test('typ JWT (ERR_DPOP_TYP)', async () => {
    assertOAuthError(await exchangeWith(await proofWith({ typ: 'JWT' })), 'ERR_DPOP_TYP', 'typ must be dpop+jwt');
  });
  test('alg EdDSA with a P-256 jwk (ERR_DPOP_ALG)', async () => {
    const ed = await generateKeyPair('EdDSA');
    assertOAuthError(await exchangeWith(await proofWith({ alg: 'EdDSA' }, ed.privateKey)), 'ERR_DPOP_ALG', 'jwk does not fit alg EdDSA');
  });
  test('a jwk with private members (ERR_DPOP_JWK)', async () => {
    const pair = await generateKeyPair('ES256', { extractable: true });
    assertOAuthError(await exchangeWith(await proofWith({ jwk: await exportJWK(pair.privateKey) }, pair.privateKey)), 'ERR_DPOP_JWK', 'jwk must not contain private key material');
  });
  test('signed by a key other than its jwk (ERR_DPOP_SIGNATURE)', async () => {
    const other = await generateDpopKey();
    assertOAuthError(await exchangeWith(await proofWith({}, other.pair.privateKey)), 'ERR_DPOP_SIGNATURE', 'signature does not verify');
  });
  test('no jti (ERR_DPOP_JTI)', async () => {
    assertOAuthError(await exchangeWith(await fx.proof(a.key, '/token', { jti: undefined })), 'ERR_DPOP_JTI', 'jti is missing or too long');
  });
  test('htm GET (ERR_DPOP_HTM)', async () => {
    assertOAuthError(await exchangeWith(await fx.proof(a.key, '/token', { htm: 'GET' })), 'ERR_DPOP_HTM', 'htm does not match the request method');
  });
  test('htu of another endpoint (ERR_DPOP_HTU)', async () => {
    assertOAuthError(await exchangeWith(await fx.proof(a.key, '/bc-authorize')), 'ERR_DPOP_HTU', 'htu does not match the request URI');
  });
  test('htu with a trailing slash is another URI', async () => {
    assertOAuthError(await exchangeWith(await fx.proof(a.key, '/token/')), 'ERR_DPOP_HTU', 'htu does not match the request URI');
  });
  test('htu with a query is the same URI (RFC 9449 §4.3)', async () => {
    assert.equal((await exchangeWith(await fx.proof(a.key, '/token?x=1'))).status, 200);
  });
  test('iat outside the window (ERR_DPOP_IAT)', async () => {
    assertOAuthError(await exchangeWith(await fx.proof(a.key, '/token', { iat: nowSeconds() - 61 })), 'ERR_DPOP_IAT', 'iat is missing or outside the accepted window');
  });
  test('a replayed proof (ERR_DPOP_REPLAY)', async () => {
    const proof = await fx.proof(a.key, '/token');
    assert.equal((await exchangeWith(proof)).status, 200);
    assertOAuthError(await exchangeWith(proof), 'ERR_DPOP_REPLAY', 'jti was already used');
  });
  test('a nonce is optional while dpop.requireNonce is off, but must be valid when sent (ERR_DPOP_NONCE_INVALID)', async () => {
    assertOAuthError(await exchangeWith(await fx.proof(a.key, '/token', { nonce: 'AAAAAAAAAAAAAAAAAAAAAAAAAAAA' })), 'ERR_DPOP_NONCE_INVALID', 'the DPoP nonce is stale or invalid');
  });
});

describe('§6 dpop.requireNonce at /token (a second broker)', () => {
  let t: TestApp;
  let agentId: string;
  let privateKey: CryptoKey;
  let key: DpopKeyPair;
  before(async () => {
    t = await startTestApp({ config: { dpop: { requireNonce: true } } });
    const pair = await generateKeyPair('ES256');
    privateKey = pair.privateKey;
    const { kty, crv, x, y } = await exportJWK(pair.publicKey);
    agentId = (await t.app.directory.addAgent({ name: 'nonce-agent', owners: [t.admin.id], policy: 'default', jwk: { kty, crv, x, y } }, { actor: t.admin.id, requestId: 'req_AAAAAAAAAAAAAAAAAAAAAA' })).id;
    key = await generateDpopKey();
  });
  after(() => t.close());
  const poll = async (nonce?: string) => {
    const now = Math.floor(Date.now() / 1000);
    const assertion = await new SignJWT({ iss: agentId, sub: agentId, aud: t.app.config.issuer, iat: now, exp: now + 30, jti: randomBytes(12).toString('base64url') }).setProtectedHeader({ alg: 'ES256' }).sign(privateKey);
    const proof = await new SignJWT({ jti: randomBytes(12).toString('base64url'), htm: 'POST', htu: `${t.app.config.issuer}/token`, iat: now, ...(nonce ? { nonce } : {}) })
      .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk: key.publicJwk }).sign(key.pair.privateKey);
    const payload = new URLSearchParams({ grant_type: GRANT_TYPE.ciba, auth_req_id: 'unknown', client_assertion_type: CLIENT_ASSERTION_TYPE, client_assertion: assertion }).toString();
    const response = await t.inject({ method: 'POST', url: '/token', headers: { 'content-type': 'application/x-www-form-urlencoded', dpop: proof }, payload });
    return { status: response.statusCode, headers: new Headers(response.headers as Record<string, string>), body: JSON.parse(response.body) as Record<string, unknown> };
  };

  test('a proof without a nonce → 400 use_dpop_nonce with a DPoP-Nonce header (ERR_DPOP_NONCE_REQUIRED)', async () => {
    const response = await poll();
    assertOAuthError(response, 'ERR_DPOP_NONCE_REQUIRED', 'a DPoP nonce is required');
    assert.match(String(response.headers.get('dpop-nonce')), /^[A-Za-z0-9_-]{27}$/);
  });
  test('with the nonce from that header the proof is accepted (the request then fails on its grant)', async () => {
    const nonce = (await poll()).headers.get('dpop-nonce')!;
    assertOAuthError(await poll(nonce), 'ERR_CIBA_INVALID_GRANT', 'unknown auth_req_id');
  });
  test('a forged nonce → use_dpop_nonce', async () => {
    assertOAuthError(await poll('AAAAAAAAAAAAAAAAAAAAAAAAAAAA'), 'ERR_DPOP_NONCE_INVALID', 'the DPoP nonce is stale or invalid');
  });
});

// ─── §7 introspection, revocation, cascades ───

describe('§7 introspection', () => {
  let a: Actor;
  let active: Active;
  before(async () => {
    a = await newActor();
    active = await activeMandate(a);
  });

  test('an active token: exactly the members of PROTOCOL §7', async () => {
    const response = await introspect(active.token);
    assert.equal(response.status, 200);
    const claims = decodeJwt(active.token);
    assert.deepEqual(response.body, {
      active: true, token_type: 'DPoP', iss: fx.issuer, sub: fx.alice.id, aud: API, exp: claims.exp, iat: claims.iat, jti: claims.jti,
      cnf: { jkt: a.key.jkt }, client_id: a.id, act: claims.act, authorization_details: claims.authorization_details,
    });
    assert.equal(response.headers.get('cache-control'), 'no-store');
  });
  test('client_secret_basic works as well as client_secret_post', async () => {
    const basic = `Basic ${Buffer.from(`${encodeURIComponent(API)}:${encodeURIComponent(SECRETS[API]!)}`).toString('base64')}`;
    const response = await fx.post('/introspect', { token: active.token }, { authorization: basic });
    assert.equal(response.body.active, true, JSON.stringify(response.body));
  });
  test('a wrong secret → 401 invalid_client (ERR_INTROSPECT_CLIENT)', async () => {
    const response = await introspect(active.token, API, 'wrong');
    assertOAuthError(response, 'ERR_INTROSPECT_CLIENT', 'resource server authentication failed');
    assert.equal(response.headers.get('www-authenticate'), 'Bearer realm="mandate", error="invalid_client"');
  });
  test("another audience's resource server learns nothing: active false", async () => {
    assert.deepEqual((await introspect(active.token, OTHER_API)).body, { active: false });
  });
  test('a mandate grant is never active here', async () => {
    assert.deepEqual((await introspect(active.grant)).body, { active: false });
  });
  test('garbage is inactive, not an error', async () => {
    assert.deepEqual((await introspect('x.y.z')).body, { active: false });
  });
  test('a token of a revoked mandate is inactive', async () => {
    const b = await newActor();
    const revoked = await activeMandate(b);
    assert.equal((await fx.adminApi('POST', `/admin/v1/mandates/${revoked.mandateId}/revoke`, fx.secrets.alice, { reason: 'test' })).status, 200);
    assert.deepEqual((await introspect(revoked.token)).body, { active: false });
  });
});

describe('§7 revocation by the agent (RFC 7009)', () => {
  test('its own access token: 200, then introspection says inactive', async () => {
    const a = await newActor();
    const active = await activeMandate(a);
    const response = await revoke(a, active.token);
    assert.equal(response.status, 200);
    assert.deepEqual(response.body, {});
    assert.deepEqual((await introspect(active.token)).body, { active: false });
    assert.equal((await exchange(a, active.grant)).status, 200, 'the mandate itself lives on');
  });
  test('its grant: the mandate is revoked', async () => {
    const a = await newActor();
    const active = await activeMandate(a);
    assert.equal((await revoke(a, active.grant)).status, 200);
    assert.equal((await fx.app.loop.decisions.get(active.mandateId)).status, 'revoked');
    assertOAuthError(await exchange(a, active.grant), 'ERR_MINT_MANDATE_INACTIVE', 'the mandate is revoked', 'mandate_revoked');
  });
  test('the grant of a mandate that already expired: 200, and the mandate ends revoked by the agent', async () => {
    const a = await newActor();
    const short = await activeMandate(a, { constraints: { notAfter: nowSeconds() + 30 } });
    fx.clock.advance(31_000);
    assert.equal((await fx.app.loop.decisions.get(short.mandateId)).status, 'expired');
    const response = await revoke(a, short.grant);
    assert.equal(response.status, 200);
    assert.deepEqual(response.body, {});
    const mandate = await fx.app.loop.decisions.get(short.mandateId);
    assert.deepEqual([mandate.status, mandate.endReason], ['revoked', 'revoked_by_agent']);
  });
  test("another agent's token: 200, and nothing is revoked", async () => {
    const a = await newActor();
    const thief = await newActor();
    const active = await activeMandate(a);
    assert.equal((await revoke(thief, active.token)).status, 200);
    assert.equal((await revoke(thief, active.grant)).status, 200);
    assert.equal((await introspect(active.token)).body.active, true);
    assert.equal((await fx.app.loop.decisions.get(active.mandateId)).status, 'active');
  });
});

describe('§8 cascades', () => {
  test('suspending the agent: its mints are refused and its tokens inactive', async () => {
    const a = await newActor();
    const active = await activeMandate(a);
    assert.equal((await fx.adminApi('POST', `/admin/v1/agents/${a.id}/suspend`, fx.secrets.admin)).status, 200);
    assertOAuthError(await fx.post('/token', { grant_type: GRANT_TYPE.tokenExchange, ...(await clientAuth(a.agent)) }), 'ERR_CLIENT_INACTIVE', 'the agent is suspended');
    assert.deepEqual((await introspect(active.token)).body, { active: false });
    assert.equal((await fx.app.loop.decisions.get(active.mandateId)).status, 'suspended');
  });
  test('disabling the human: their mandates are revoked, mints refused, tokens inactive', async () => {
    const carol = await fx.addHuman('carol');
    const a = await newActor({ owners: [carol.human.id] });
    const { authReqId, mandateId } = await pending(a, { login_hint: carol.human.id });
    await approve(mandateId, carol.secret);
    const collected = await poll(a, authReqId);
    assert.equal(collected.status, 200, JSON.stringify(collected.body));
    assert.equal((await fx.adminApi('POST', `/admin/v1/humans/${carol.human.id}/disable`, fx.secrets.admin)).status, 200);
    assertOAuthError(await exchange(a, collected.body.refresh_token as string), 'ERR_MINT_MANDATE_INACTIVE', 'the mandate is revoked', 'mandate_revoked');
    assert.deepEqual((await introspect(collected.body.access_token as string)).body, { active: false });
  });
});

describe('§8 cascades over a request that expired undecided', () => {
  let carol: { human: { id: string }; secret: string };
  let a: Actor;
  let active: Active;
  let expiredId: string;
  let disabled: WireResponse;
  before(async () => {
    carol = await fx.addHuman('carol-with-expired-request');
    a = await newActor({ owners: [carol.human.id] });
    const first = await pending(a, { login_hint: carol.human.id });
    await approve(first.mandateId, carol.secret);
    const collected = await poll(a, first.authReqId);
    assert.equal(collected.status, 200, JSON.stringify(collected.body));
    active = { mandateId: first.mandateId, grant: collected.body.refresh_token as string, token: collected.body.access_token as string };
    // Newer than the active mandate, so the cascade meets it first.
    expiredId = (await pending(a, { login_hint: carol.human.id, requested_expiry: '5' })).mandateId;
    fx.clock.advance(6_000);
    assert.equal((await fx.app.loop.decisions.get(expiredId)).status, 'expired');
  });

  test('disabling the human: 200, the active mandate is revoked (token inactive, mints refused), human.disabled audited', async () => {
    disabled = await fx.adminApi('POST', `/admin/v1/humans/${carol.human.id}/disable`, fx.secrets.admin);
    assert.equal(disabled.status, 200, JSON.stringify(disabled.body));
    assert.equal(disabled.body.status, 'disabled');
    const ended = await Promise.all([active.mandateId, expiredId].map(async (id) => fx.app.loop.decisions.get(id)));
    assert.deepEqual(ended.map((m) => [m.status, m.endReason]), [['revoked', 'human_disabled'], ['revoked', 'human_disabled']]);
    assert.deepEqual((await introspect(active.token)).body, { active: false });
    assertOAuthError(await exchange(a, active.grant), 'ERR_MINT_MANDATE_INACTIVE', 'the mandate is revoked', 'mandate_revoked');
    const audited = (await fx.auditEvents(50)).filter((e) => e.type === 'human.disabled' && (e.data as { human_id: string }).human_id === carol.human.id);
    assert.equal(audited.length, 1);
  });
  test('disabling the human again: 200, the same human, nothing audited twice', async () => {
    const again = await fx.adminApi('POST', `/admin/v1/humans/${carol.human.id}/disable`, fx.secrets.admin);
    assert.equal(again.status, 200, JSON.stringify(again.body));
    assert.deepEqual(again.body, disabled.body);
    const events = await fx.auditEvents(50);
    assert.equal(events.filter((e) => e.type === 'human.disabled' && (e.data as { human_id: string }).human_id === carol.human.id).length, 1);
    assert.equal(events.filter((e) => e.type === 'mandate.revoked' && e.mandate_id === active.mandateId).length, 1);
  });
  test('retiring an agent: 200, its mandates revoked and its credentials revoked', async () => {
    const b = await newActor();
    const live = await activeMandate(b);
    const expired = (await pending(b, { requested_expiry: '5' })).mandateId;
    fx.clock.advance(6_000);
    const retired = await fx.adminApi('POST', `/admin/v1/agents/${b.id}/retire`, fx.secrets.admin);
    assert.equal(retired.status, 200, JSON.stringify(retired.body));
    assert.equal(retired.body.status, 'retired');
    const ended = await Promise.all([live.mandateId, expired].map(async (id) => fx.app.loop.decisions.get(id)));
    assert.deepEqual(ended.map((m) => [m.status, m.endReason]), [['revoked', 'agent_retired'], ['revoked', 'agent_retired']]);
    const credentials = await fx.app.store.credentials.listByMandate(live.mandateId);
    assert.equal(credentials.length, 1);
    assert.ok(credentials.every((c) => c.revokedAt !== null), 'the first token is revoked');
  });
});

describe('§8 backstop: an approver disabled in the store, without the cascade', () => {
  let dave: { human: { id: string }; secret: string };
  let a: Actor;
  let active: Active;
  let approvedAuthReqId: string;
  let approvedId: string;
  let limited: { mandateId: string; grant: string };
  let spent: { mandateId: string; token: string };
  before(async () => {
    dave = await fx.addHuman('dave-disabled-in-store');
    a = await newActor({ owners: [dave.human.id] });
    const first = await pending(a, { login_hint: dave.human.id });
    await approve(first.mandateId, dave.secret);
    const collected = await poll(a, first.authReqId);
    assert.equal(collected.status, 200, JSON.stringify(collected.body));
    active = { mandateId: first.mandateId, grant: collected.body.refresh_token as string, token: collected.body.access_token as string };
    const counted = await pending(a, { login_hint: dave.human.id, authorization_details: JSON.stringify([task({ constraints: { notAfter: nowSeconds() + 3600, maxUses: 3 } })]) });
    await approve(counted.mandateId, dave.secret);
    const countedToken = await poll(a, counted.authReqId);
    assert.equal(countedToken.status, 200, JSON.stringify(countedToken.body));
    limited = { mandateId: counted.mandateId, grant: countedToken.body.refresh_token as string };
    // maxUses 1: collecting takes the only use, and the mandate ends exhausted with its token still out.
    const once = await pending(a, { login_hint: dave.human.id, authorization_details: JSON.stringify([task({ constraints: { notAfter: nowSeconds() + 3600, maxUses: 1 } })]) });
    await approve(once.mandateId, dave.secret);
    const onceToken = await poll(a, once.authReqId);
    assert.equal(onceToken.status, 200, JSON.stringify(onceToken.body));
    spent = { mandateId: once.mandateId, token: onceToken.body.access_token as string };
    assert.equal((await fx.app.loop.decisions.get(spent.mandateId)).status, 'exhausted');
    const second = await pending(a, { login_hint: dave.human.id });
    await approve(second.mandateId, dave.secret);
    approvedAuthReqId = second.authReqId;
    approvedId = second.mandateId;
    assert.equal(await fx.app.store.humans.disable(dave.human.id, fx.clock.now()), true);
    // The cascade never ran: the mandate still reads active.
    assert.equal((await fx.app.loop.decisions.get(active.mandateId)).status, 'active');
  });

  test('token exchange → approver_disabled (ERR_MINT_MANDATE_INACTIVE)', async () => {
    assertOAuthError(await exchange(a, active.grant), 'ERR_MINT_MANDATE_INACTIVE', 'the approver is disabled', 'approver_disabled');
  });
  test('token exchange of a maxUses mandate → approver_disabled, and the use it took is given back (the cascade must find the mandate live)', async () => {
    assert.equal(await fx.app.store.counters.remaining(limited.mandateId), 2, 'collecting took the first of 3');
    for (let i = 0; i < 3; i++) assertOAuthError(await exchange(a, limited.grant), 'ERR_MINT_MANDATE_INACTIVE', 'the approver is disabled', 'approver_disabled');
    assert.equal(await fx.app.store.counters.remaining(limited.mandateId), 2);
    assert.equal((await fx.app.loop.decisions.get(limited.mandateId)).status, 'active');
  });
  test('introspection of its token → active false', async () => {
    assert.deepEqual((await introspect(active.token)).body, { active: false });
  });
  test('collecting an approved request → invalid_grant (ERR_CIBA_INVALID_GRANT)', async () => {
    assertOAuthError(await poll(a, approvedAuthReqId), 'ERR_CIBA_INVALID_GRANT', 'unknown auth_req_id');
  });
  test('disabling through the admin API then finishes the cascade that never ran: 200, its mandates revoked, the exhausted one and its token too', async () => {
    const response = await fx.adminApi('POST', `/admin/v1/humans/${dave.human.id}/disable`, fx.secrets.admin);
    assert.equal(response.status, 200, JSON.stringify(response.body));
    assert.equal(response.body.status, 'disabled');
    const ended = await Promise.all([active.mandateId, approvedId, limited.mandateId, spent.mandateId].map(async (id) => fx.app.loop.decisions.get(id)));
    assert.deepEqual(ended.map((m) => [m.status, m.endReason]), Array.from({ length: 4 }, () => ['revoked', 'human_disabled']));
    const spentTokens = await fx.app.store.credentials.listByMandate(spent.mandateId);
    assert.equal(spentTokens.length, 1);
    assert.ok(spentTokens.every((c) => c.revokedAt !== null), 'the token of the exhausted mandate is revoked');
  });
});

// ─── §9 a failed audit commit undoes what it would have allowed ───

describe('§9 audit commits that fail', () => {
  const AUDIT_DOWN = 'the audit log could not commit the event';

  test('/bc-authorize whose mandate.requested is not committed → 503, and the stored request is revoked (audit_unavailable)', async () => {
    const a = await newActor();
    const attested = await attestation(a);
    assertOAuthError(await withFailingAudit('mandate.requested', () => ask(a, { attestation: attested })), 'ERR_AUDIT_UNAVAILABLE', AUDIT_DOWN);
    const listed = await fx.adminApi('GET', `/admin/v1/mandates?agent=${a.id}`, fx.secrets.alice);
    assert.equal(listed.status, 200, JSON.stringify(listed.body));
    const mandates = listed.body.mandates as Array<{ status: string; end_reason: string | null }>;
    assert.deepEqual(mandates.map((m) => [m.status, m.end_reason]), [['revoked', 'audit_unavailable']]);
  });
  test('an approval whose mandate.approved is not committed → 503; the request is pending again and can be approved later', async () => {
    const a = await newActor();
    const { authReqId, mandateId } = await pending(a);
    const failed = await withFailingAudit('mandate.approved', () => fx.adminApi('POST', `/admin/v1/mandates/${mandateId}/approve`, fx.secrets.alice));
    assertProblem(failed, 503, 'ERR_AUDIT_UNAVAILABLE', AUDIT_DOWN);
    const shown = await fx.adminApi('GET', `/admin/v1/mandates/${mandateId}`, fx.secrets.alice);
    assert.deepEqual([shown.body.status, shown.body.approval], ['pending', null]);
    assertOAuthError(await poll(a, authReqId), 'ERR_CIBA_PENDING', 'the approver has not decided yet');
    await approve(mandateId);
    assert.equal((await poll(a, authReqId)).status, 200);
  });
  test('a denial whose mandate.denied is not committed → 503; the request is pending again and can be denied later', async () => {
    const a = await newActor();
    const { authReqId, mandateId } = await pending(a);
    const failed = await withFailingAudit('mandate.denied', () => fx.adminApi('POST', `/admin/v1/mandates/${mandateId}/deny`, fx.secrets.alice));
    assertProblem(failed, 503, 'ERR_AUDIT_UNAVAILABLE', AUDIT_DOWN);
    const shown = await fx.adminApi('GET', `/admin/v1/mandates/${mandateId}`, fx.secrets.alice);
    assert.deepEqual([shown.body.status, shown.body.approval], ['pending', null]);
    assertOAuthError(await poll(a, authReqId), 'ERR_CIBA_PENDING', 'the approver has not decided yet');
    assert.equal((await fx.adminApi('POST', `/admin/v1/mandates/${mandateId}/deny`, fx.secrets.alice)).status, 200);
    assertOAuthError(await poll(a, authReqId), 'ERR_CIBA_DENIED', 'the approver denied the request');
  });
  test('maxUses 1 and an uncommitted token.issued at collection → 503; the next poll collects, the mandate ends exhausted, one mandate.activated', async () => {
    const a = await newActor();
    const { authReqId, mandateId } = await pending(a, { authorization_details: JSON.stringify([task({ constraints: { notAfter: nowSeconds() + 3600, maxUses: 1 } })]) });
    await approve(mandateId);
    assertOAuthError(await withFailingAudit('token.issued', () => poll(a, authReqId)), 'ERR_AUDIT_UNAVAILABLE', AUDIT_DOWN);
    const committed: string[][] = [];
    fx.auditControl.fail = (inputs) => {
      committed.push(inputs.map((i) => i.type));
      return false;
    };
    let collected: WireResponse;
    try {
      collected = await poll(a, authReqId);
    } finally {
      fx.auditControl.fail = null;
    }
    assert.equal(collected.status, 200, JSON.stringify(collected.body));
    assert.equal((await fx.app.loop.decisions.get(mandateId)).status, 'exhausted');
    assert.deepEqual(committed.filter((types) => types.includes('mandate.activated')), [['mandate.activated', 'token.issued']], 'activated in the same commit as the token');
    const shown = await fx.adminApi('GET', `/admin/v1/mandates/${mandateId}`, fx.secrets.alice);
    assert.deepEqual((shown.body.audit as Array<{ type: string }>).map((e) => e.type), ['mandate.requested', 'mandate.approved', 'mandate.activated', 'token.issued', 'mandate.exhausted']);
  });
});
