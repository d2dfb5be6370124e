import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { evidenceAudience, VERIFIER_ERRORS, type VerifierErrorCode } from '@mandate/sdk';
import { mandateErrorOf } from '../src/services/actor-attestation.ts';
import { activeMandate, callResource, challengeOf, exchangeParts, newActor, postParts, sha256, type Actor, type ActiveMandate } from './support/attack-actors.ts';
import {
  API, assertOAuthError, clientAuth, CODE_DIGEST, generateDpopKey, OTHER_API, startLoopFixture, startResourceServer, type DpopKeyPair, type LoopFixture, type ResourceServer, type WireResponse,
} from './support/loop-fixture.ts';

/**
 * The attack catalogue (issue #11 item 1) beyond the JWS level (that is attack-catalogue-jws.test.ts),
 * against the RUNNING broker and a resource server using the SDK verifier: DPoP `htu` tricks and
 * the `iat` window limits at /token; DPoP at a resource server with real tokens (`ath`, `cnf.jkt`,
 * replay, private key material, nonce); token exchange races past `maxUses` and widening through
 * `authorization_details`; attestation evidence bound to another key or an old nonce. Cases already
 * covered by another suite are listed in COVERED_ELSEWHERE, and a test checks those tests still exist.
 */

let fx: LoopFixture;
let rs: ResourceServer;
let a: Actor;
let active: ActiveMandate;

before(async () => {
  fx = await startLoopFixture();
  rs = await startResourceServer(fx);
  a = await newActor(fx);
  active = await activeMandate(fx, a);
});
after(async () => {
  await rs?.close();
  await fx?.close();
});

const nowSeconds = () => Math.floor(fx.clock.now() / 1000);
const show = (r: WireResponse) => `${r.status} ${JSON.stringify(r.body)}`;

/** A token exchange whose only unusual part is the DPoP proof. */
async function exchangeWithProof(proof: string): Promise<WireResponse> {
  const parts = await exchangeParts(fx, a, active.grant);
  parts.headers.dpop = proof;
  return postParts(fx, parts);
}

// ─── DPoP at /token ───

describe('DPoP htu tricks at /token (RFC 9449 §4.3: RFC 3986 normalization, query and fragment ignored)', () => {
  const port = () => new URL(fx.issuer).port;
  const HTU: Array<[string, () => string, boolean]> = [
    ['fragment ignored', () => `${fx.issuer}/token#frag`, true],
    ['scheme and host case normalized', () => `HTTP://127.0.0.1:${port()}/token`, true],
    ['dot segments removed', () => `${fx.issuer}/x/../token`, true],
    ['path case', () => `${fx.issuer}/TOKEN`, false],
    ['another host naming the same machine (localhost)', () => `http://localhost:${port()}/token`, false],
    ['https instead of http', () => `https://127.0.0.1:${port()}/token`, false],
    ['the default port instead of the issuer port', () => 'http://127.0.0.1/token', false],
    ['another port', () => `http://127.0.0.1:${Number(port()) + 1}/token`, false],
    ['userinfo', () => `http://user@127.0.0.1:${port()}/token`, false],
    ['encoded slash after the path', () => `${fx.issuer}/token%2F`, false],
    ['a relative htu', () => '/token', false],
  ];
  for (const [name, htu, accepted] of HTU) {
    test(`htu ${name} → ${accepted ? 'accepted' : 'ERR_DPOP_HTU'}`, async () => {
      // The claim is set as written (fx.proof would resolve a path against the issuer).
      const response = await exchangeWithProof(await fx.proof(a.key, '/token', { htu: htu() }));
      if (accepted) assert.equal(response.status, 200, show(response));
      else assertOAuthError(response, 'ERR_DPOP_HTU', 'htu does not match the request URI');
    });
  }
});

describe('DPoP iat window at /token (dpop.iatWindow 60 s, either way): at the limit passes, one second beyond fails', () => {
  before(() => fx.clock.freeze());
  after(() => fx.clock.thaw());
  const IAT: Array<[string, number, boolean]> = [
    ['60 s old', -60, true], ['61 s old', -61, false], ['60 s ahead', 60, true], ['61 s ahead', 61, false],
  ];
  for (const [name, offset, accepted] of IAT) {
    test(`iat ${name} → ${accepted ? 'accepted' : 'ERR_DPOP_IAT'}`, async () => {
      const response = await exchangeWithProof(await fx.proof(a.key, '/token', { iat: nowSeconds() + offset }));
      if (accepted) assert.equal(response.status, 200, show(response));
      else assertOAuthError(response, 'ERR_DPOP_IAT', 'iat is missing or outside the accepted window');
    });
  }
  test('iat as a string or a fraction → ERR_DPOP_IAT', async () => {
    for (const iat of [String(nowSeconds()), nowSeconds() + 0.5])
      assertOAuthError(await exchangeWithProof(await fx.proof(a.key, '/token', { iat })), 'ERR_DPOP_IAT', 'iat is missing or outside the accepted window');
  });
  test('a proof for the same jti by another key is its own proof (replay is per key), the same key twice is ERR_DPOP_REPLAY', async () => {
    const jti = randomBytes(12).toString('base64url');
    const first = await exchangeWithProof(await fx.proof(a.key, '/token', { jti }));
    assert.equal(first.status, 200, show(first));
    assertOAuthError(await exchangeWithProof(await fx.proof(a.key, '/token', { jti })), 'ERR_DPOP_REPLAY', 'jti was already used');
  });
});

// ─── DPoP at a resource server, with tokens the broker minted ───

/** A raw call to the resource server with a proof the test writes itself. */
async function callWith(token: string, proof: string, scheme = 'DPoP', url = `${rs.url}/items`): Promise<{ status: number; challenge: string; nonce: string | null }> {
  const response = await fetch(url, { headers: { authorization: `${scheme} ${token}`, dpop: proof } });
  await response.arrayBuffer();
  return { status: response.status, challenge: response.headers.get('www-authenticate') ?? '', nonce: response.headers.get('dpop-nonce') };
}

function assertRefusal(result: { status: number; challenge: string }, code: VerifierErrorCode, description: string): void {
  assert.equal(result.status, VERIFIER_ERRORS[code][0], result.challenge);
  assert.deepEqual(challengeOf(result.challenge), { error: VERIFIER_ERRORS[code][1], description });
}

describe('DPoP at a resource server using the SDK verifier, with a token the broker minted', () => {
  const items = () => `${rs.url}/items`;
  test('control: the agent’s own proof with ath is accepted', async () => {
    assert.equal((await callResource(fx, items(), a.key, active.token)).status, 200);
  });
  test('no ath (ERR_DPOP_ATH)', async () => {
    assertRefusal(await callWith(active.token, await fx.proof(a.key, items(), {}, 'GET')), 'ERR_DPOP_ATH', 'the DPoP proof ath does not match the access token');
  });
  test('ath of another token of the same agent (ERR_DPOP_ATH)', async () => {
    const other = await activeMandate(fx, a);
    assertRefusal(await callWith(active.token, await fx.proof(a.key, items(), { ath: sha256(other.token) }, 'GET')), 'ERR_DPOP_ATH', 'the DPoP proof ath does not match the access token');
  });
  test('a stolen token with a proof by the thief’s key, ath right (ERR_DPOP_KEY_MISMATCH)', async () => {
    const thief = await generateDpopKey();
    assertRefusal(await callResource(fx, items(), thief, active.token), 'ERR_DPOP_KEY_MISMATCH', 'the DPoP proof key is not the key the token is bound to');
  });
  test('the same proof replayed (ERR_DPOP_REPLAY)', async () => {
    const proof = await fx.proof(a.key, items(), { ath: sha256(active.token) }, 'GET');
    assert.equal((await callWith(active.token, proof)).status, 200);
    assertRefusal(await callWith(active.token, proof), 'ERR_DPOP_REPLAY', 'the DPoP proof was already used');
  });
  test('htm POST for a GET (ERR_DPOP_HTM)', async () => {
    assertRefusal(await callWith(active.token, await fx.proof(a.key, items(), { ath: sha256(active.token) }, 'POST')), 'ERR_DPOP_HTM', 'the DPoP proof htm does not match the request method');
  });
  test('htu with a trailing slash (ERR_DPOP_HTU)', async () => {
    assertRefusal(await callWith(active.token, await fx.proof(a.key, `${items()}/`, { ath: sha256(active.token) }, 'GET')), 'ERR_DPOP_HTU', 'the DPoP proof htu does not match the request URI');
  });
  test('htu naming the broker instead of the resource server (ERR_DPOP_HTU)', async () => {
    assertRefusal(await callWith(active.token, await fx.proof(a.key, `${fx.issuer}/items`, { ath: sha256(active.token) }, 'GET')), 'ERR_DPOP_HTU', 'the DPoP proof htu does not match the request URI');
  });
  test('a stale iat (ERR_DPOP_IAT)', async () => {
    assertRefusal(await callWith(active.token, await fx.proof(a.key, items(), { ath: sha256(active.token), iat: nowSeconds() - 61 }, 'GET')), 'ERR_DPOP_IAT', 'the DPoP proof is too old');
  });
  test('a jwk with private key material d, signed by that key (ERR_DPOP_JWK)', async () => {
    const pair = await generateKeyPair('ES256', { extractable: true });
    const proof = await new SignJWT({ jti: randomBytes(12).toString('base64url'), htm: 'GET', htu: items(), iat: nowSeconds(), ath: sha256(active.token) })
      .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk: await exportJWK(pair.privateKey) }).sign(pair.privateKey);
    assertRefusal(await callWith(active.token, proof), 'ERR_DPOP_JWK', 'the DPoP proof jwk must be a public key');
  });
  test('the token sent as Bearer, with its proof (ERR_TOKEN_BEARER, RFC 9449 §7.2)', async () => {
    assertRefusal(await callWith(active.token, await fx.proof(a.key, items(), { ath: sha256(active.token) }, 'GET'), 'Bearer'), 'ERR_TOKEN_BEARER', 'DPoP-bound tokens must use the DPoP scheme, not Bearer');
  });
  test('requireNonce: no nonce → 401 use_dpop_nonce with a DPoP-Nonce; with it → 200; a forged one → use_dpop_nonce', async () => {
    const strict = await startResourceServer(fx, { requireNonce: true, nonceSecret: randomBytes(32).toString('base64url') });
    try {
      const url = `${strict.url}/items`;
      const first = await callWith(active.token, await fx.proof(a.key, url, { ath: sha256(active.token) }, 'GET'), 'DPoP', url);
      assertRefusal(first, 'ERR_DPOP_NONCE', 'a DPoP nonce is required');
      assert.ok(first.nonce, 'DPoP-Nonce header');
      assert.equal((await callWith(active.token, await fx.proof(a.key, url, { ath: sha256(active.token), nonce: first.nonce }, 'GET'), 'DPoP', url)).status, 200);
      const forged = await callWith(active.token, await fx.proof(a.key, url, { ath: sha256(active.token), nonce: `${first.nonce}x` }, 'GET'), 'DPoP', url);
      assertRefusal(forged, 'ERR_DPOP_NONCE', 'the DPoP nonce is invalid or expired');
    } finally {
      await strict.close();
    }
  });
});

// ─── token exchange ───

describe('token exchange attacks', () => {
  test('maxUses under a race: 8 concurrent exchanges with 2 uses left → exactly 2 tokens, 6 mandate_exhausted', async () => {
    const b = await newActor(fx);
    // maxUses counts the first CIBA token (PROTOCOL §5): 3 uses, 1 spent at collection.
    const limited = await activeMandate(fx, b, { maxUses: 3 });
    const requests = await Promise.all(Array.from({ length: 8 }, () => exchangeParts(fx, b, limited.grant)));
    const responses = await Promise.all(requests.map((parts) => postParts(fx, parts)));
    const ok = responses.filter((r) => r.status === 200);
    assert.equal(ok.length, 2, responses.map(show).join('\n'));
    // Refused at the status check (already exhausted) or at the atomic decrement (lost the race): both mandate_exhausted.
    for (const refused of responses.filter((r) => r.status !== 200))
      assertOAuthError(refused, 'ERR_MINT_MANDATE_INACTIVE', /^the mandate (is exhausted|has no uses left)$/, 'mandate_exhausted');
    assert.equal((await fx.app.loop.decisions.get(limited.mandateId)).status, 'exhausted');
  });
  test('audience widened through authorization_details (locations another audience, resource the mandate’s) → ERR_MINT_WIDENING', async () => {
    const parts = await exchangeParts(fx, a, active.grant);
    const task = { ...(await fx.app.loop.decisions.get(active.mandateId)).task, locations: [OTHER_API] };
    parts.form.authorization_details = JSON.stringify([task]);
    assertOAuthError(await postParts(fx, parts), 'ERR_MINT_WIDENING', 'authorization_details widen the mandate (audience)', 'widening_audience');
  });
  test('audience widened through both resource and authorization_details → ERR_MINT_TARGET', async () => {
    const parts = await exchangeParts(fx, a, active.grant);
    const task = { ...(await fx.app.loop.decisions.get(active.mandateId)).task, locations: [OTHER_API] };
    Object.assign(parts.form, { resource: OTHER_API, authorization_details: JSON.stringify([task]) });
    assertOAuthError(await postParts(fx, parts), 'ERR_MINT_TARGET', 'resource is not the audience of this mandate');
  });
  test('a stolen grant presented with the victim’s own attestation result, by another agent → client_mismatch', async () => {
    const thief = await newActor(fx);
    const parts = await exchangeParts(fx, thief, active.grant);
    parts.form.actor_token = (await a.sdk.attest()).attestation;
    assertOAuthError(await postParts(fx, parts), 'ERR_MINT_CLIENT_MISMATCH', 'the mandate belongs to another agent', 'client_mismatch');
  });
  test('the victim’s grant with the victim’s attestation and the victim’s DPoP proof, but the thief’s client authentication → client_mismatch', async () => {
    const thief = await newActor(fx);
    const parts = await exchangeParts(fx, a, active.grant);
    Object.assign(parts.form, await clientAuth(thief.agent));
    assertOAuthError(await postParts(fx, parts), 'ERR_MINT_CLIENT_MISMATCH', 'the mandate belongs to another agent', 'client_mismatch');
  });
  test('an access token of the mandate as the mandate grant → grant_invalid (a token never renews itself)', async () => {
    const parts = await exchangeParts(fx, a, active.grant);
    parts.form.subject_token = active.token;
    assertOAuthError(await postParts(fx, parts), 'ERR_MINT_SUBJECT_TOKEN', 'subject_token is not a mandate grant', 'grant_invalid');
  });
});

// ─── single-use values raced: one of N concurrent uses wins ───

describe('single-use values presented concurrently (replay races)', () => {
  const N = 6;
  const statuses = (responses: Array<{ status: number }>) => responses.map((r) => r.status).sort().join(',');
  test(`one DPoP proof in ${N} concurrent exchanges → exactly one token, ${N - 1} ERR_DPOP_REPLAY`, async () => {
    const proof = await fx.proof(a.key, '/token');
    const requests = await Promise.all(Array.from({ length: N }, () => exchangeParts(fx, a, active.grant)));
    const responses = await Promise.all(requests.map((parts) => postParts(fx, { ...parts, headers: { dpop: proof } })));
    assert.equal(responses.filter((r) => r.status === 200).length, 1, statuses(responses));
    for (const r of responses.filter((x) => x.status !== 200)) assertOAuthError(r, 'ERR_DPOP_REPLAY', 'jti was already used');
  });
  test(`one client assertion in ${N} concurrent exchanges → exactly one authenticated, ${N - 1} ERR_CLIENT_ASSERTION_REPLAY`, async () => {
    const assertion = await a.agent.assertion();
    const requests = await Promise.all(Array.from({ length: N }, () => exchangeParts(fx, a, active.grant)));
    const responses = await Promise.all(requests.map((parts) => postParts(fx, { ...parts, form: { ...parts.form, client_assertion: assertion } })));
    assert.equal(responses.filter((r) => r.status === 200).length, 1, statuses(responses));
    for (const r of responses.filter((x) => x.status !== 200)) assertOAuthError(r, 'ERR_CLIENT_ASSERTION_REPLAY', 'the client assertion was already used');
  });
  test('a refused exchange spends its ids all the same: mended and sent again with them, it is ERR_CLIENT_ASSERTION_REPLAY and mints nothing', async () => {
    const parts = await exchangeParts(fx, a, active.grant);
    assertOAuthError(await postParts(fx, { ...parts, form: { ...parts.form, resource: OTHER_API } }), 'ERR_MINT_TARGET', 'resource is not the audience of this mandate');
    const before = (await fx.app.store.credentials.listByMandate(active.mandateId)).length;
    assertOAuthError(await postParts(fx, parts), 'ERR_CLIENT_ASSERTION_REPLAY', 'the client assertion was already used');
    const proofOnly = await exchangeParts(fx, a, active.grant);
    assertOAuthError(await postParts(fx, { ...proofOnly, headers: parts.headers }), 'ERR_DPOP_REPLAY', 'jti was already used');
    assert.equal((await fx.app.store.credentials.listByMandate(active.mandateId)).length, before, 'no credential stored');
  });
  test('a replayed DPoP proof on a maxUses mandate spends no use: the agent\'s own next request gets it', async () => {
    const limited = await activeMandate(fx, a, { maxUses: 3 });
    const first = await exchangeParts(fx, a, limited.grant);
    assert.equal((await postParts(fx, first)).status, 200, 'use 2 of 3 (collecting took the first)');
    const replay = await exchangeParts(fx, a, limited.grant);
    assertOAuthError(await postParts(fx, { ...replay, headers: first.headers }), 'ERR_DPOP_REPLAY', 'jti was already used');
    assert.equal((await postParts(fx, await exchangeParts(fx, a, limited.grant))).status, 200, 'use 3 of 3 is still there');
  });
  test(`one proof in ${N} concurrent calls to a resource server → exactly one 200, ${N - 1} ERR_DPOP_REPLAY`, async () => {
    const proof = await fx.proof(a.key, `${rs.url}/items`, { ath: sha256(active.token) }, 'GET');
    const results = await Promise.all(Array.from({ length: N }, () => callWith(active.token, proof)));
    assert.equal(results.filter((r) => r.status === 200).length, 1, statuses(results));
    for (const r of results.filter((x) => x.status !== 200)) assertRefusal(r, 'ERR_DPOP_REPLAY', 'the DPoP proof was already used');
  });
  test(`one challenge nonce in ${N} concurrent /attest → exactly one attestation result, ${N - 1} ERR_CHALLENGE_REPLAYED`, async () => {
    const { nonce } = await a.sdk.challenge();
    const audience = await evidenceAudience(nonce, a.key.jkt);
    const attest = async () => {
      const evidence = [{ attestor: 'oidc-token', evidence: await fx.oidc.sign({ aud: audience }) }, { attestor: 'code-digest', evidence: { digest: CODE_DIGEST } }];
      return fx.postJson('/attest', { ...(await clientAuth(a.agent)), nonce, evidence }, { dpop: await fx.proof(a.key, '/attest') });
    };
    const responses = await Promise.all(Array.from({ length: N }, attest));
    assert.equal(responses.filter((r) => r.status === 200).length, 1, statuses(responses));
    for (const r of responses.filter((x) => x.status !== 200)) assertOAuthError(r, 'ERR_CHALLENGE_REPLAYED', 'the challenge nonce was already used');
  });
  test(`one approved auth_req_id collected by ${N} concurrent polls → exactly one token and one grant`, async () => {
    const b = await newActor(fx);
    const { authReqId } = await b.sdk.ask({
      loginHint: fx.alice.id, bindingMessage: 'Read the items', task: { purpose: 'Read the items', audience: API, actions: ['read'], notAfter: new Date(fx.clock.now() + 3_600_000) },
    });
    const mandateId = await fx.pendingMandateOf(b.id);
    assert.equal((await fx.adminApi('POST', `/admin/v1/mandates/${mandateId}/approve`, fx.secrets.alice)).status, 200);
    // Polls must carry the attestation (its result from /bc-authorize is still fresh) and a proof by the pinned key.
    const poll = async () => fx.post('/token', { ...(await clientAuth(b.agent)), grant_type: 'urn:openid:params:grant-type:ciba', auth_req_id: authReqId }, { dpop: await fx.proof(b.key, '/token') });
    const responses = await Promise.all(Array.from({ length: N }, poll));
    const granted = responses.filter((r) => r.status === 200);
    assert.equal(granted.length, 1, responses.map(show).join('\n'));
    // The losers poll an id already redeemed (or, depending on timing, faster than the interval: CIBA §11).
    for (const r of responses.filter((x) => x.status !== 200)) {
      if (r.body.error === 'slow_down') assertOAuthError(r, 'ERR_CIBA_SLOW_DOWN', /^poll at most every \d+ s$/);
      else assertOAuthError(r, 'ERR_CIBA_INVALID_GRANT', 'unknown auth_req_id');
    }
    const tokens = (await fx.auditEvents(50)).filter((e) => e.type === 'token.issued' && e.mandate_id === mandateId);
    assert.equal(tokens.length, 1, 'one token.issued for the mandate');
  });
});

// ─── attestation evidence replay ───

describe('attestation evidence replayed', () => {
  /** /attest with evidence bound to (`boundNonce`, `boundJkt`), sent with a fresh `nonce` and a proof by `key`. */
  async function attest(key: DpopKeyPair, bound: { nonce?: string; jkt?: string } = {}): Promise<WireResponse> {
    const { nonce } = await a.sdk.challenge();
    const audience = await evidenceAudience(bound.nonce ?? nonce, bound.jkt ?? key.jkt);
    const evidence = [{ attestor: 'oidc-token', evidence: await fx.oidc.sign({ aud: audience }) }, { attestor: 'code-digest', evidence: { digest: CODE_DIGEST } }];
    return fx.postJson('/attest', { ...(await clientAuth(a.agent)), nonce, evidence }, { dpop: await fx.proof(key, '/attest') });
  }
  async function rejectedFor(response: WireResponse, reason: string): Promise<void> {
    assertOAuthError(response, 'ERR_ATTESTATION_REJECTED', 'the evidence does not satisfy the attestation policy');
    const event = (await fx.auditEvents(5)).reverse().find((e) => e.type === 'attestation.rejected' && e.actor === a.id);
    assert.ok(event, 'attestation.rejected is audited');
    assert.ok((event.data as { failures: string[] }).failures.includes(reason), JSON.stringify(event.data));
  }
  test('control: evidence bound to this challenge and this DPoP key is accepted', async () => {
    const response = await attest(a.key);
    assert.equal(response.status, 200, show(response));
  });
  test('evidence bound to another DPoP key (the key it was stolen with) → ERR_OIDC_TOKEN_AUDIENCE', async () => {
    const victim = await generateDpopKey();
    await rejectedFor(await attest(a.key, { jkt: victim.jkt }), 'ERR_OIDC_TOKEN_AUDIENCE');
  });
  test('evidence bound to an old, already used nonce, sent with a fresh one → ERR_OIDC_TOKEN_AUDIENCE', async () => {
    const { nonce: old } = await a.sdk.challenge();
    await rejectedFor(await attest(a.key, { nonce: old }), 'ERR_OIDC_TOKEN_AUDIENCE');
  });
  test('an attestation result of this agent for another DPoP key, at the token endpoint → attestation_key_mismatch', async () => {
    const parts = await exchangeParts(fx, a, active.grant);
    const rotated = await generateDpopKey();
    parts.headers.dpop = await fx.proof(rotated, '/token');
    assertOAuthError(await postParts(fx, parts), 'ERR_MINT_ACTOR_TOKEN', 'cnf.jkt is not the DPoP key of this request', mandateErrorOf('ERR_ATTESTATION_KEY_MISMATCH'));
  });
});

// ─── skew limits at the running server (the clock is frozen and set; this block runs last) ───

describe('expired and not-yet-valid at the skew limits, with real tokens (verifier skew 30 s, client assertion skew 30 s)', () => {
  let plain: ResourceServer;
  let token: string;
  let claims: { iat: number; exp: number };
  const setNow = (ms: number) => fx.clock.advance(ms - fx.clock.now());
  before(async () => {
    // Without introspection: the verifier's own time checks decide (introspection uses the broker clock, below).
    plain = await startResourceServer(fx, { introspection: undefined });
    token = (await activeMandate(fx, a)).token;
    claims = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as { iat: number; exp: number };
    fx.clock.freeze();
  });
  after(async () => {
    fx.clock.thaw();
    await plain.close();
  });
  const call = (server = plain) => callResource(fx, `${server.url}/items`, a.key, token);
  test('nbf 30 s ahead of the resource server clock → accepted; 31 s → ERR_TOKEN_NOT_YET_VALID', async () => {
    setNow((claims.iat - 30) * 1000);
    assert.equal((await call()).status, 200);
    setNow((claims.iat - 31) * 1000);
    assertRefusal(await call(), 'ERR_TOKEN_NOT_YET_VALID', 'the access token is not valid yet');
  });
  test('exp 29 s past → accepted; 30 s past → ERR_TOKEN_EXPIRED', async () => {
    setNow((claims.exp + 29) * 1000);
    assert.equal((await call()).status, 200);
    setNow((claims.exp + 30) * 1000);
    assertRefusal(await call(), 'ERR_TOKEN_EXPIRED', 'the access token has expired');
  });
  test('with introspection the broker clock decides without skew: 1 s past exp → inactive (ERR_TOKEN_REVOKED)', async () => {
    setNow((claims.exp - 1) * 1000);
    assert.equal((await call(rs)).status, 200);
    setNow((claims.exp + 1) * 1000);
    assertRefusal(await call(rs), 'ERR_TOKEN_REVOKED', 'the access token is no longer active');
  });
  test('client assertion: exp 29 s past → authenticated; 30 s past → ERR_CLIENT_ASSERTION_EXPIRED', async () => {
    const withAssertion = async (exp: number) => {
      const parts = await exchangeParts(fx, a, active.grant);
      parts.form.client_assertion = await a.agent.assertion({ iat: exp - 30, exp });
      return postParts(fx, parts);
    };
    const ok = await withAssertion(nowSeconds() - 29);
    assert.equal(ok.status, 200, show(ok));
    assertOAuthError(await withAssertion(nowSeconds() - 30), 'ERR_CLIENT_ASSERTION_EXPIRED', 'the client assertion has expired');
  });
  test('attestation result: 1 s before its exp → minted; at its exp → attestation_stale (no skew: freshness is policy)', async () => {
    const result = (await a.sdk.attest()).attestation;
    const { exp } = JSON.parse(Buffer.from(result.split('.')[1]!, 'base64url').toString()) as { exp: number };
    const withResult = async () => {
      const parts = await exchangeParts(fx, a, active.grant);
      parts.form.actor_token = result;
      return postParts(fx, parts);
    };
    setNow((exp - 1) * 1000);
    const ok = await withResult();
    assert.equal(ok.status, 200, show(ok));
    setNow(exp * 1000);
    assertOAuthError(await withResult(), 'ERR_MINT_ATTESTATION_STALE', 'the attestation result has expired: attest again', 'attestation_stale');
  });
});

// ─── cases covered by other suites: the catalogue names them, and checks they still exist ───

/** [catalogue case, file under packages/, exact test title]. */
const COVERED_ELSEWHERE: Array<[string, string, string]> = [
  ['DPoP replayed jti at /token', 'broker/test/protocol-rules.test.ts', 'a replayed proof (ERR_DPOP_REPLAY)'],
  ['DPoP htu with a query at /token is the same URI', 'broker/test/protocol-rules.test.ts', 'htu with a query is the same URI (RFC 9449 §4.3)'],
  ['DPoP htu trailing slash at /token', 'broker/test/protocol-rules.test.ts', 'htu with a trailing slash is another URI'],
  ['DPoP wrong htm at /token', 'broker/test/protocol-rules.test.ts', 'htm GET (ERR_DPOP_HTM)'],
  ['DPoP private key material in jwk at /token', 'broker/test/protocol-rules.test.ts', 'a jwk with private members (ERR_DPOP_JWK)'],
  ['DPoP missing nonce when dpop.requireNonce at /token', 'broker/test/protocol-rules.test.ts', 'a proof without a nonce → 400 use_dpop_nonce with a DPoP-Nonce header (ERR_DPOP_NONCE_REQUIRED)'],
  ['token exchange with a subject token of another agent', 'broker/test/protocol-rules.test.ts', "another agent's grant → client_mismatch (ERR_MINT_CLIENT_MISMATCH)"],
  ['token exchange with widened actions', 'broker/test/protocol-rules.test.ts', 'widened authorization_details → invalid_authorization_details (ERR_MINT_WIDENING)'],
  ['token exchange with another audience as resource', 'broker/test/protocol-rules.test.ts', 'a resource that is not the mandate audience → invalid_target'],
  ['token exchange after revocation', 'broker/test/protocol-rules.test.ts', 'a revoked mandate → mandate_revoked (ERR_MINT_MANDATE_INACTIVE)'],
  ['token exchange past maxUses', 'broker/test/protocol-rules.test.ts', 'an exhausted mandate → mandate_exhausted; maxUses counts the first CIBA token'],
  ["CIBA polling of another client's auth_req_id", 'broker/test/protocol-rules.test.ts', "another agent's auth_req_id → invalid_grant"],
  ['CIBA polling with a DPoP key other than the pinned one', 'broker/test/protocol-rules.test.ts', 'a proof by a key other than the pinned one → invalid_grant (ERR_CIBA_DPOP_KEY)'],
  ['attestation challenge nonce replayed', 'broker/test/protocol-rules.test.ts', 'a nonce used twice (ERR_CHALLENGE_REPLAYED)'],
  ['attestation evidence token (jti) replayed', 'broker/test/protocol-rules.test.ts', 'a token whose jti was already used (ERR_OIDC_TOKEN_REPLAYED)'],
  ['TPM quote replayed from an earlier challenge', 'broker/src/attestors/tpm-quote/verify.test.ts', 'a quote replayed from an earlier challenge (ERR_TPM_QUOTE_NONCE)'],
  ['TPM quote bound to another DPoP key', 'broker/src/attestors/tpm-quote/verify.test.ts', 'a quote for this nonce but another DPoP key (ERR_TPM_QUOTE_NONCE)'],
  ['passkey approval replayed for another task', 'broker/test/console-approval.test.ts', 'an approval replayed for a different task is refused (ERR_PASSKEY_CHALLENGE_INVALID, ERR_PASSKEY_VERIFICATION, ERR_PASSKEY_CHALLENGE_REPLAYED)'],
  ['sub-agent widening: audience', 'broker/test/sub-agents.test.ts', 'another audience (ERR_SUB_GRANT_WIDENING_AUDIENCE)'],
  ['sub-agent widening: actions', 'broker/test/sub-agents.test.ts', 'more actions than the parent token (ERR_SUB_GRANT_WIDENING_ACTIONS)'],
  ['sub-agent widening: expiry', 'broker/test/sub-agents.test.ts', 'a later notAfter than the parent token (ERR_SUB_GRANT_WIDENING_EXPIRY)'],
  ['sub-agent widening: maxUses', 'broker/test/sub-agents.test.ts', 'more uses than the parent has, or has left (ERR_SUB_GRANT_WIDENING_MAX_USES)'],
  ['sub-agent widening: purpose', 'broker/test/sub-agents.test.ts', 'another purpose than the parent token (ERR_SUB_GRANT_WIDENING_TASK)'],
  ['sub-agent: another agent redeems the sub-grant', 'broker/test/sub-agents.test.ts', 'an agent other than may_act.sub (ERR_SUB_GRANT_NOT_MAY_ACT)'],
  ['sub-agent: a sub-grant redeemed twice', 'broker/test/sub-agents.test.ts', 'a sub-grant redeemed twice (ERR_SUB_GRANT_REUSED)'],
  ['client assertion replayed', 'broker/test/protocol-rules.test.ts', 'a replayed assertion (ERR_CLIENT_ASSERTION_REPLAY)'],
  ['client assertion typ JWT', 'broker/test/protocol-rules.test.ts', 'typ JWT is refused (ERR_CLIENT_ASSERTION_TYP)'],
  ['evidence typ confusion: an access token as OIDC evidence', 'broker/test/protocol-rules.test.ts', 'an access token (typ at+jwt) as identity evidence (ERR_OIDC_TOKEN_TYP)'],
  ['JWS differential fuzz, strict module vs jose (2,000 seeded inputs)', 'sdk/src/jws/differential.test.ts', ''],
];

test('every case covered elsewhere still has its test (the catalogue cannot drift from the suites it names)', () => {
  const root = new URL('../../', import.meta.url);
  for (const [name, file, title] of COVERED_ELSEWHERE) {
    const text = readFileSync(new URL(file, root), 'utf8');
    assert.ok(title === '' || text.includes(title), `${name}: "${title}" not found in ${file}`);
  }
});
