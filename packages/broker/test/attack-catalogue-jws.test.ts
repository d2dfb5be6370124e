import assert from 'node:assert/strict';
import { createPrivateKey, createPublicKey, generateKeyPairSync, KeyObject } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { decodeJwt, decodeProtectedHeader, type JSONWebKeySet } from 'jose';
import { VERIFIER_ERRORS, type VerifierErrorCode } from '@mandate/sdk';
import { createSsfReceiver, SET_MEDIA_TYPE } from '@mandate/sdk/ssf-receiver';
import { GRANT_TYPE, MAY_ACT_SUB_PARAMETER, SUB_GRANT_TOKEN_TYPE, TOKEN_TYPE } from '@mandate/sdk/protocol';
import type { ErrorCode } from '../src/core/errors.ts';
import { mandateErrorOf } from '../src/services/actor-attestation.ts';
import { activeMandate, attestationPop, callResource, catchSets, challengeOf, eventually, exchangeParts, newActor, postParts, sha256, type Actor, type ActiveMandate, type SetCatcher } from './support/attack-actors.ts';
import { joseEmbeddedDecision, joseJwtDecision, jwsAttacks, publicJwkOf, startFetchTrap, type AttackBase, type FetchTrap } from './support/attack-tokens.ts';
import { API, assertOAuthError, AUTO_API, clientAuth, generateDpopKey, SECRETS, startLoopFixture, startResourceServer, type LoopFixture, type ResourceServer, type WireResponse } from './support/loop-fixture.ts';

/**
 * The attack catalogue (issue #11 item 1), JWS level, against the RUNNING broker and a resource
 * server using the SDK verifier, over loopback HTTP:
 * 1. every JWS attack of support/attack-tokens.ts at every place the broker or the verifier reads a
 *    JWS (actor token, client assertion, DPoP proof, access token at a resource server and where
 *    the broker reads one back, a SET pushed to a resource server's SSF endpoint), each with its
 *    exact error, and
 *    jose (jwtVerify / compactVerify + EmbeddedJWK, same keys, allow-list ES256 + EdDSA) deciding
 *    the same, or stricter only where src/jws/README.md documents it;
 * 2. typ confusion: every token kind the broker, the SDK or the agent mints for real, presented at
 *    every place a token is read, including the status list a resource server fetches (one test
 *    per cell; the diagonal is the accepted control).
 * jku/x5u point at a loopback trap that must receive no request.
 */

let fx: LoopFixture;
let rs: ResourceServer;
let trap: FetchTrap;
let sets: SetCatcher;
let a: Actor;
let main: Actor;
let active: ActiveMandate;
let jwks: JSONWebKeySet;
/** A resource server in status-list mode whose list fetches go through a substituting proxy (the attacker). */
let listRs: ResourceServer;
let substitute: string | null = null;
/** A resource server's SSF push endpoint (SDK receiver), the place a SET is expected. */
let receiver: { url: string; close(): Promise<void> };
const attacker = generateKeyPairSync('ec', { namedCurve: 'P-256' });

before(async () => {
  fx = await startLoopFixture({ config: { revocation: { push: { pollInterval: '10ms', retryBase: '50ms', maxAttempts: 3, allowLoopback: true, maxStreamsPerAudience: 3 } } } });
  rs = await startResourceServer(fx);
  trap = await startFetchTrap();
  sets = await catchSets(fx);
  a = await newActor(fx);
  const key = await generateDpopKey();
  main = { agent: fx.agent, id: fx.agent.agent.id, key, sdk: fx.agent.client({ dpopKey: key.pair }) };
  active = await activeMandate(fx, a);
  jwks = fx.app.keys.publishedJwks() as JSONWebKeySet;
  // Status-list fetches answer `substitute` when set; everything else (the JWKS) goes to the broker.
  const proxy: typeof fetch = async (input, init) => {
    const url = String(input instanceof Request ? input.url : input);
    if (substitute === null || !url.startsWith(`${fx.issuer}/statuslists/`)) return fetch(input, init);
    return new Response(substitute, { headers: { 'content-type': 'application/statuslist+jwt', 'cache-control': 'max-age=0' } });
  };
  listRs = await startResourceServer(fx, { introspection: undefined, statusList: { maxCacheSeconds: 0 }, fetch: proxy });
  const ssf = createSsfReceiver({ issuer: fx.issuer, audience: API, jwks: `${fx.issuer}/jwks`, now: fx.clock.now });
  const server = createServer((req, res) => ssf.nodeHandler(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  receiver = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/ssf/events`,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
});
after(async () => {
  await Promise.all([rs?.close(), listRs?.close(), trap?.close(), sets?.close(), receiver?.close()]);
  await fx?.close();
});

const show = (r: WireResponse) => `${r.status} ${JSON.stringify(r.body)}`;
const baseOf = (jwt: string, signer: KeyObject): AttackBase => ({
  header: decodeProtectedHeader(jwt) as Record<string, unknown>, payload: decodeJwt(jwt) as Record<string, unknown>, signer, publicKey: createPublicKey(signer),
  attacker: { privateKey: attacker.privateKey, publicJwk: publicJwkOf(attacker.publicKey) }, fetchTrap: trap.url,
});
const exchangeWith = async (part: 'actor_token' | 'client_assertion' | 'dpop', value: string) => {
  const parts = await exchangeParts(fx, a, active.grant);
  if (part === 'dpop') parts.headers.dpop = value;
  else parts.form[part] = value;
  return postParts(fx, parts);
};
const at = () => new Date(fx.clock.now());

// ─── 1. JWS attacks × places ───

/** [catalogue code, error_description, mandate_error] at the broker; [verifier code, description] at the resource server. */
type Expect = [ErrorCode, string, string?];
const actor = (code: ErrorCode, message: string): Expect => ['ERR_MINT_ACTOR_TOKEN', message, mandateErrorOf(code)];
const NOT_JWS = 'not a compact JWS: ';

interface Place {
  title: string;
  base(): Promise<AttackBase>;
  present(token: string): Promise<WireResponse>;
  jose(token: string): Promise<string>;
  /** Attacks jose accepts here (the module refuses them: documented differences, or caught by a later check). */
  joseAccepts: string[];
  expect: Record<string, Expect>;
}

const DOCUMENTED = ['b64-false', 'padded-header', 'padded-signature', 'duplicate-alg-none-first'];

const BROKER_PLACES: Record<string, Place> = {
  actor_token: {
    title: 'actor_token (attestation result, broker key) at /token',
    base: async () => baseOf((await a.sdk.attest()).attestation, fx.app.keys.signingKey().key),
    present: (token) => exchangeWith('actor_token', token),
    jose: (token) => joseJwtDecision(token, jwks, { typ: 'attestation-result+jwt', issuer: fx.issuer, audience: fx.issuer, currentDate: at() }),
    joseAccepts: DOCUMENTED,
    expect: {
      'alg-none': actor('ERR_ATTESTATION_INVALID', `${NOT_JWS}alg none is not allowed`),
      'alg-none-mixed-case': actor('ERR_ATTESTATION_INVALID', `${NOT_JWS}alg nOnE is not allowed`),
      'hs256-public-pem': actor('ERR_ATTESTATION_INVALID', `${NOT_JWS}alg HS256 is not allowed`),
      'hs256-public-der': actor('ERR_ATTESTATION_INVALID', `${NOT_JWS}alg HS256 is not allowed`),
      'unknown-kid': actor('ERR_ATTESTATION_SIGNATURE', 'kid names no key of this broker'),
      jku: actor('ERR_ATTESTATION_SIGNATURE', 'kid names no key of this broker'),
      'jku-known-kid': actor('ERR_ATTESTATION_SIGNATURE', 'signature does not verify'),
      x5u: actor('ERR_ATTESTATION_SIGNATURE', 'kid names no key of this broker'),
      'embedded-jwk': actor('ERR_ATTESTATION_SIGNATURE', 'signature does not verify'),
      'crit-unknown': actor('ERR_ATTESTATION_INVALID', `${NOT_JWS}crit extensions are not supported`),
      'b64-false-crit': actor('ERR_ATTESTATION_INVALID', `${NOT_JWS}crit extensions are not supported`),
      'b64-false': actor('ERR_ATTESTATION_INVALID', `${NOT_JWS}unencoded payloads are not supported`),
      'padded-header': actor('ERR_ATTESTATION_INVALID', `${NOT_JWS}header is not canonical base64url`),
      'padded-signature': actor('ERR_ATTESTATION_INVALID', `${NOT_JWS}signature has the wrong length or encoding`),
      'duplicate-alg-none-last': actor('ERR_ATTESTATION_INVALID', `${NOT_JWS}header has a member name twice`),
      'duplicate-alg-none-first': actor('ERR_ATTESTATION_INVALID', `${NOT_JWS}header has a member name twice`),
      'alg-swap-eddsa': actor('ERR_ATTESTATION_SIGNATURE', 'signature does not verify'),
      'kid-injection': actor('ERR_ATTESTATION_SIGNATURE', 'kid names no key of this broker'),
      'signature-stripped': actor('ERR_ATTESTATION_INVALID', `${NOT_JWS}signature has the wrong length or encoding`),
      'psychic-signature': actor('ERR_ATTESTATION_SIGNATURE', 'signature does not verify'),
    },
  },
  client_assertion: {
    title: 'client_assertion (private_key_jwt, agent key) at /token',
    base: async () => baseOf(await a.agent.assertion(), createPrivateKey({ key: a.agent.privateJwk as never, format: 'jwk' })),
    present: (token) => exchangeWith('client_assertion', token),
    jose: (token) => joseJwtDecision(token, { keys: [a.agent.agent.jwk as never] }, { issuer: a.id, audience: fx.issuer, currentDate: at() }),
    joseAccepts: DOCUMENTED,
    expect: {
      'alg-none': ['ERR_CLIENT_ASSERTION_MALFORMED', 'alg none is not allowed'],
      'alg-none-mixed-case': ['ERR_CLIENT_ASSERTION_MALFORMED', 'alg nOnE is not allowed'],
      'hs256-public-pem': ['ERR_CLIENT_ASSERTION_MALFORMED', 'alg HS256 is not allowed'],
      'hs256-public-der': ['ERR_CLIENT_ASSERTION_MALFORMED', 'alg HS256 is not allowed'],
      'unknown-kid': ['ERR_CLIENT_ASSERTION_SIGNATURE', 'signature does not verify with the registered key'],
      jku: ['ERR_CLIENT_ASSERTION_SIGNATURE', 'signature does not verify with the registered key'],
      'jku-known-kid': ['ERR_CLIENT_ASSERTION_SIGNATURE', 'signature does not verify with the registered key'],
      x5u: ['ERR_CLIENT_ASSERTION_SIGNATURE', 'signature does not verify with the registered key'],
      'embedded-jwk': ['ERR_CLIENT_ASSERTION_SIGNATURE', 'signature does not verify with the registered key'],
      'crit-unknown': ['ERR_CLIENT_ASSERTION_MALFORMED', 'crit extensions are not supported'],
      'b64-false-crit': ['ERR_CLIENT_ASSERTION_MALFORMED', 'crit extensions are not supported'],
      'b64-false': ['ERR_CLIENT_ASSERTION_MALFORMED', 'unencoded payloads are not supported'],
      'padded-header': ['ERR_CLIENT_ASSERTION_MALFORMED', 'header is not canonical base64url'],
      'padded-signature': ['ERR_CLIENT_ASSERTION_MALFORMED', 'signature has the wrong length or encoding'],
      'duplicate-alg-none-last': ['ERR_CLIENT_ASSERTION_MALFORMED', 'header has a member name twice'],
      'duplicate-alg-none-first': ['ERR_CLIENT_ASSERTION_MALFORMED', 'header has a member name twice'],
      'alg-swap-eddsa': ['ERR_CLIENT_ASSERTION_SIGNATURE', 'signature does not verify with the registered key'],
      'kid-injection': ['ERR_CLIENT_ASSERTION_SIGNATURE', 'signature does not verify with the registered key'],
      'signature-stripped': ['ERR_CLIENT_ASSERTION_MALFORMED', 'signature has the wrong length or encoding'],
      'psychic-signature': ['ERR_CLIENT_ASSERTION_SIGNATURE', 'signature does not verify with the registered key'],
    },
  },
  dpop: {
    title: 'DPoP proof (embedded jwk) at /token',
    base: async () => baseOf(await fx.proof(a.key, '/token'), KeyObject.from(a.key.pair.privateKey)),
    present: (token) => exchangeWith('dpop', token),
    jose: (token) => joseEmbeddedDecision(token),
    // compactVerify understands crit ["b64"] (RFC 7797); an attacker's own embedded jwk is a valid
    // JWS, refused by the binding: the attestation result names the agent's key (cnf.jkt).
    joseAccepts: [...DOCUMENTED, 'b64-false-crit', 'embedded-jwk'],
    expect: {
      'alg-none': ['ERR_DPOP_ALG', 'alg none is not allowed'],
      'alg-none-mixed-case': ['ERR_DPOP_ALG', 'alg nOnE is not allowed'],
      'hs256-public-pem': ['ERR_DPOP_ALG', 'alg HS256 is not allowed'],
      'hs256-public-der': ['ERR_DPOP_ALG', 'alg HS256 is not allowed'],
      'unknown-kid': ['ERR_DPOP_SIGNATURE', 'signature does not verify'],
      jku: ['ERR_DPOP_SIGNATURE', 'signature does not verify'],
      'jku-known-kid': ['ERR_DPOP_SIGNATURE', 'signature does not verify'],
      x5u: ['ERR_DPOP_SIGNATURE', 'signature does not verify'],
      'embedded-jwk': actor('ERR_ATTESTATION_KEY_MISMATCH', 'cnf.jkt is not the DPoP key of this request'),
      'crit-unknown': ['ERR_DPOP_MALFORMED', 'crit extensions are not supported'],
      'b64-false-crit': ['ERR_DPOP_MALFORMED', 'crit extensions are not supported'],
      'b64-false': ['ERR_DPOP_MALFORMED', 'unencoded payloads are not supported'],
      'padded-header': ['ERR_DPOP_MALFORMED', 'header is not canonical base64url'],
      'padded-signature': ['ERR_DPOP_MALFORMED', 'signature has the wrong length or encoding'],
      'duplicate-alg-none-last': ['ERR_DPOP_MALFORMED', 'header has a member name twice'],
      'duplicate-alg-none-first': ['ERR_DPOP_MALFORMED', 'header has a member name twice'],
      'alg-swap-eddsa': ['ERR_DPOP_ALG', 'jwk does not fit alg EdDSA'],
      'kid-injection': ['ERR_DPOP_SIGNATURE', 'signature does not verify'],
      'signature-stripped': ['ERR_DPOP_MALFORMED', 'signature has the wrong length or encoding'],
      'psychic-signature': ['ERR_DPOP_SIGNATURE', 'signature does not verify'],
    },
  },
};

const subject = (message: string): Expect => ['ERR_SUB_GRANT_SUBJECT_TOKEN', message, 'sub_grant_subject_token'];
const NOT_OURS = 'subject_token is not signed by a key of this broker';

/** The access token the broker itself reads back: a parent's token in a sub-grant request (PROTOCOL §10). */
BROKER_PLACES.sub_grant = {
  title: 'subject_token of a sub-grant request (an access token the broker reads back)',
  base: async () => baseOf(active.token, fx.app.keys.signingKey().key),
  present: (token) => subGrantRequest(token),
  jose: (token) => joseJwtDecision(token, jwks, { typ: 'at+jwt', issuer: fx.issuer, audience: API, currentDate: at() }),
  joseAccepts: DOCUMENTED,
  expect: {
    'alg-none': subject('subject_token: alg none is not allowed'),
    'alg-none-mixed-case': subject('subject_token: alg nOnE is not allowed'),
    'hs256-public-pem': subject('subject_token: alg HS256 is not allowed'),
    'hs256-public-der': subject('subject_token: alg HS256 is not allowed'),
    'unknown-kid': subject(NOT_OURS), jku: subject(NOT_OURS), x5u: subject(NOT_OURS), 'kid-injection': subject(NOT_OURS),
    'jku-known-kid': subject('subject_token: signature does not verify'),
    'embedded-jwk': subject('subject_token: signature does not verify'),
    'psychic-signature': subject('subject_token: signature does not verify'),
    'alg-swap-eddsa': subject('subject_token: key type does not match alg EdDSA'),
    'crit-unknown': subject('subject_token: crit extensions are not supported'),
    'b64-false-crit': subject('subject_token: crit extensions are not supported'),
    'b64-false': subject('subject_token: unencoded payloads are not supported'),
    'padded-header': subject('subject_token: header is not canonical base64url'),
    'padded-signature': subject('subject_token: signature has the wrong length or encoding'),
    'signature-stripped': subject('subject_token: signature has the wrong length or encoding'),
    'duplicate-alg-none-last': subject('subject_token: header has a member name twice'),
    'duplicate-alg-none-first': subject('subject_token: header has a member name twice'),
  },
};

/** At the resource server (SDK verifier behind node:http): [verifier code, error_description]. */
const RS_EXPECT: Record<string, [VerifierErrorCode, string]> = {
  'alg-none': ['ERR_TOKEN_ALG', 'the access token alg none is not allowed'],
  'alg-none-mixed-case': ['ERR_TOKEN_ALG', 'the access token alg nOnE is not allowed'],
  'hs256-public-pem': ['ERR_TOKEN_ALG', 'the access token alg HS256 is not allowed'],
  'hs256-public-der': ['ERR_TOKEN_ALG', 'the access token alg HS256 is not allowed'],
  'unknown-kid': ['ERR_TOKEN_KEY_UNKNOWN', 'no published key matches the access token kid'],
  jku: ['ERR_TOKEN_KEY_UNKNOWN', 'no published key matches the access token kid'],
  'jku-known-kid': ['ERR_TOKEN_SIGNATURE', 'the access token signature is invalid'],
  x5u: ['ERR_TOKEN_KEY_UNKNOWN', 'no published key matches the access token kid'],
  'embedded-jwk': ['ERR_TOKEN_SIGNATURE', 'the access token signature is invalid'],
  'crit-unknown': ['ERR_TOKEN_MALFORMED', 'the access token could not be verified'],
  'b64-false-crit': ['ERR_TOKEN_MALFORMED', 'the access token could not be verified'],
  'b64-false': ['ERR_TOKEN_MALFORMED', 'the access token could not be verified'],
  'padded-header': ['ERR_TOKEN_MALFORMED', 'the Authorization header is malformed'],
  'padded-signature': ['ERR_TOKEN_SIGNATURE', 'the access token signature is invalid'],
  'duplicate-alg-none-last': ['ERR_TOKEN_MALFORMED', 'the access token is not a JWS'],
  'duplicate-alg-none-first': ['ERR_TOKEN_MALFORMED', 'the access token is not a JWS'],
  'alg-swap-eddsa': ['ERR_TOKEN_KEY_UNKNOWN', 'no published key matches the access token kid'],
  'kid-injection': ['ERR_TOKEN_KEY_UNKNOWN', 'no published key matches the access token kid'],
  'signature-stripped': ['ERR_TOKEN_SIGNATURE', 'the access token signature is invalid'],
  'psychic-signature': ['ERR_TOKEN_SIGNATURE', 'the access token signature is invalid'],
};

/** Builds the attack `id` on a fresh genuine token of the place, and checks it is a real variation. */
async function attackAt(base: () => Promise<AttackBase>, id: string): Promise<string> {
  const built = await base();
  const attack = jwsAttacks(built).find((x) => x.id === id);
  assert.ok(attack, `no attack ${id}`);
  if (id.startsWith('padded')) assert.ok(attack.token.includes('='), `${id} carries padding`);
  return attack.token;
}

for (const [name, place] of Object.entries(BROKER_PLACES)) {
  describe(`JWS attacks on the ${place.title}`, () => {
    test('the table lists every attack of the builder', async () => {
      assert.deepEqual(Object.keys(place.expect).sort(), jwsAttacks(await place.base()).map((x) => x.id).sort());
    });
    for (const [id, [code, message, mandateError]] of Object.entries(place.expect)) {
      const joseAccepts = place.joseAccepts.includes(id);
      test(`${name} ${id} → ${code}${mandateError ? ` ${mandateError}` : ''}; jose ${joseAccepts ? 'accepts (module stricter)' : 'rejects too'}`, async () => {
        const token = await attackAt(place.base, id);
        assertOAuthError(await place.present(token), code, message, mandateError);
        const jose = await place.jose(token);
        if (joseAccepts) assert.equal(jose, 'accepted');
        else assert.notEqual(jose, 'accepted', `jose accepted ${id}`);
      });
    }
  });
}

describe('JWS attacks on an access token at a resource server using the SDK verifier', () => {
  const base = async () => baseOf(active.token, fx.app.keys.signingKey().key);
  test('control: the genuine token is accepted by the resource server and jose', async () => {
    assert.equal((await callResource(fx, `${rs.url}/items`, a.key, active.token)).status, 200);
    assert.equal(await joseJwtDecision(active.token, jwks, { typ: 'at+jwt', issuer: fx.issuer, audience: API, currentDate: at() }), 'accepted');
  });
  for (const [id, [code, description]] of Object.entries(RS_EXPECT)) {
    const joseAccepts = DOCUMENTED.includes(id);
    test(`rs ${id} → ${code} (${VERIFIER_ERRORS[code][0]} ${VERIFIER_ERRORS[code][1]}); jose ${joseAccepts ? 'accepts (module stricter)' : 'rejects too'}`, async () => {
      const token = await attackAt(base, id);
      const { status, challenge } = await callResource(fx, `${rs.url}/items`, a.key, token);
      assert.equal(status, VERIFIER_ERRORS[code][0], challenge);
      assert.deepEqual(challengeOf(challenge), { error: VERIFIER_ERRORS[code][1], description });
      const jose = await joseJwtDecision(token, jwks, { typ: 'at+jwt', issuer: fx.issuer, audience: API, currentDate: at() });
      assert.equal(jose === 'accepted', joseAccepts, `jose: ${jose}`);
    });
  }
});

/** At a resource server's SSF push endpoint (SDK receiver, RFC 8935), open to anyone: [err, description], all 400 (final). */
const NOT_SET = 'the body is not a valid SET';
const SET_EXPECT: Record<string, [string, string]> = {
  'alg-none': ['invalid_request', NOT_SET], 'alg-none-mixed-case': ['invalid_request', NOT_SET],
  'hs256-public-pem': ['invalid_request', NOT_SET], 'hs256-public-der': ['invalid_request', NOT_SET],
  'unknown-kid': ['invalid_key', 'no issuer key matches the SET'], jku: ['invalid_key', 'no issuer key matches the SET'],
  'jku-known-kid': ['invalid_key', 'the SET signature is invalid'], x5u: ['invalid_key', 'no issuer key matches the SET'],
  'embedded-jwk': ['invalid_key', 'the SET signature is invalid'], 'crit-unknown': ['invalid_request', NOT_SET],
  'b64-false-crit': ['invalid_request', NOT_SET], 'b64-false': ['invalid_request', NOT_SET],
  'padded-header': ['invalid_request', NOT_SET], 'padded-signature': ['invalid_request', NOT_SET],
  'duplicate-alg-none-last': ['invalid_request', NOT_SET], 'duplicate-alg-none-first': ['invalid_request', NOT_SET],
  'alg-swap-eddsa': ['invalid_key', 'no issuer key matches the SET'], 'kid-injection': ['invalid_key', 'no issuer key matches the SET'],
  'signature-stripped': ['invalid_request', NOT_SET], 'psychic-signature': ['invalid_key', 'the SET signature is invalid'],
};

describe('JWS attacks on a SET pushed to a resource server’s SSF endpoint (SDK receiver)', () => {
  const base = async () => baseOf(await KINDS['SSF SET']!(), fx.app.keys.signingKey().key);
  const jose = (token: string) => joseJwtDecision(token, jwks, { typ: 'secevent+jwt', issuer: fx.issuer, currentDate: at() });
  test('control: the genuine SET is accepted (202) by the receiver and by jose', async () => {
    const genuine = await KINDS['SSF SET']!();
    assert.equal((await pushSet(genuine)).status, 202);
    assert.equal(await jose(genuine), 'accepted');
  });
  test('the table lists every attack of the builder', async () => {
    assert.deepEqual(Object.keys(SET_EXPECT).sort(), jwsAttacks(await base()).map((x) => x.id).sort());
  });
  for (const [id, [err, description]] of Object.entries(SET_EXPECT)) {
    const joseAccepts = DOCUMENTED.includes(id);
    test(`set ${id} → 400 ${err}; jose ${joseAccepts ? 'accepts (module stricter)' : 'rejects too'}`, async () => {
      const token = await attackAt(base, id);
      const response = await pushSet(token);
      assert.deepEqual([response.status, response.body], [400, { err, description }]);
      assert.equal((await jose(token)) === 'accepted', joseAccepts);
    });
  }
});

describe('JWS attacks on an access token at /introspect: every one is active false', () => {
  test('control: the genuine token is active', async () => {
    assert.equal((await fx.post('/introspect', { token: active.token, client_id: API, client_secret: SECRETS[API]! })).body.active, true);
  });
  test('the 20 attacks are each answered {active: false}', async () => {
    for (const attack of jwsAttacks(baseOf(active.token, fx.app.keys.signingKey().key))) {
      const response = await fx.post('/introspect', { token: attack.token, client_id: API, client_secret: SECRETS[API]! });
      assert.deepEqual([response.status, response.body], [200, { active: false }], attack.id);
    }
  });
});

// ─── 2. typ confusion: kinds × places ───

/** Every kind of token that exists in a Mandate deployment, minted for real; fresh per call where single-use. */
const KINDS: Record<string, () => Promise<string>> = {
  'access token': async () => active.token,
  'mandate grant': async () => active.grant,
  'attestation result': async () => (await a.sdk.attest()).attestation,
  'DPoP proof': () => fx.proof(a.key, '/token'),
  'client assertion': () => a.agent.assertion(),
  'status-list JWT': async () => {
    const { uri } = (decodeJwt(active.token).status as { status_list: { uri: string } }).status_list;
    return (await fetch(uri)).text();
  },
  'SSF SET': async () => {
    if (sets.sets.length === 0) {
      const other = await activeMandate(fx, a);
      await a.sdk.revoke(other.token);
      await eventually(() => sets.sets.length > 0);
    }
    return sets.sets[0]!;
  },
  // An OpenID Connect ID token from the trusted CI issuer (GitHub Actions style); Mandate issues none (PROTOCOL §2).
  'ID token': () => fx.oidc.sign({ aud: 'mandate' }),
  'client attestation PoP': () => attestationPop(fx, a),
};

const bcAuthorize = async (attestation: string) => fx.post('/bc-authorize', {
  ...(await clientAuth(a.agent)), login_hint: fx.alice.id, binding_message: 'Read the items', attestation,
  authorization_details: JSON.stringify([{ type: 'agent-task', purpose: 'Read the items', locations: [API], actions: ['read'], constraints: { notAfter: Math.floor(fx.clock.now() / 1000) + 3600 } }]),
}, { dpop: await fx.proof(a.key, '/bc-authorize') });

const subGrantRequest = async (subject: string) => fx.post('/token', {
  ...(await clientAuth(a.agent)), grant_type: GRANT_TYPE.tokenExchange, subject_token: subject, subject_token_type: TOKEN_TYPE.accessToken,
  requested_token_type: SUB_GRANT_TOKEN_TYPE, [MAY_ACT_SUB_PARAMETER]: main.id,
}, { dpop: await fx.proof(a.key, '/token') });

/** client_credentials of the agent opted in at AUTO_API: only the OAuth-Client-Attestation header is the attacker's. */
const clientCredentials = async (attestation: string) => fx.post('/token', { ...(await clientAuth(main.agent)), grant_type: GRANT_TYPE.clientCredentials, resource: AUTO_API }, {
  dpop: await fx.proof(main.key, '/token'), 'oauth-client-attestation': attestation, 'oauth-client-attestation-pop': await attestationPop(fx, main),
});

/** A call with the genuine access token to the status-list resource server, while the proxy serves `list` as the status list. */
async function listedCall(list: string): Promise<WireResponse> {
  substitute = list;
  try {
    const url = `${listRs.url}/items`;
    const response = await fetch(url, { headers: { authorization: `DPoP ${active.token}`, dpop: await fx.proof(a.key, url, { ath: sha256(active.token) }, 'GET') } });
    const text = await response.text();
    return { status: response.status, headers: response.headers, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
  } finally {
    substitute = null;
  }
}

/** RFC 8935 §2: the SET as the request body. */
async function pushSet(token: string): Promise<WireResponse> {
  const response = await fetch(receiver.url, { method: 'POST', headers: { 'content-type': SET_MEDIA_TYPE }, body: token });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

type Outcome = { kind: 'unavailable'; message: string } | { kind: 'set'; err: string; description: string } | { kind: 'accepted'; status: number } | { kind: 'oauth'; code: ErrorCode; message: string; mandateError?: string } | { kind: 'rs'; code: VerifierErrorCode; message: string } | { kind: 'inactive' };

interface TypPlace {
  /** The kind that belongs here (the accepted control), and the status that accepts it (200 unless told). */
  own: string | null;
  acceptedStatus?: number;
  present(token: string): Promise<WireResponse | { status: number; challenge: string }>;
  /** The refusal for a token of another kind: by typ, or earlier by alg (the ID token is RS256) or by not being a JWS. */
  refusal(kind: string): Outcome;
}

const byForm = (notJws: Outcome, rs256: Outcome, typ: Outcome) => (kind: string): Outcome => (kind === 'mandate grant' ? notJws : kind === 'ID token' ? rs256 : typ);
const oauth = (code: ErrorCode, message: string, mandateError?: string): Outcome => ({ kind: 'oauth', code, message, ...(mandateError ? { mandateError } : {}) });
const attestationRefusal = byForm(
  oauth('ERR_MINT_ACTOR_TOKEN', `${NOT_JWS}not a compact JWS`, 'attestation_invalid'),
  oauth('ERR_MINT_ACTOR_TOKEN', `${NOT_JWS}alg RS256 is not allowed`, 'attestation_invalid'),
  oauth('ERR_MINT_ACTOR_TOKEN', 'typ must be attestation-result+jwt', 'attestation_typ'),
);

const TYP_PLACES: Record<string, TypPlace> = {
  'access token at the resource server': {
    own: 'access token',
    present: (token) => callResource(fx, `${rs.url}/items`, a.key, token),
    refusal: byForm({ kind: 'rs', code: 'ERR_TOKEN_MALFORMED', message: 'the access token is not a JWS' }, { kind: 'rs', code: 'ERR_TOKEN_TYP', message: 'the access token typ must be at+jwt' }, { kind: 'rs', code: 'ERR_TOKEN_TYP', message: 'the access token typ must be at+jwt' }),
  },
  'subject_token (mandate grant) at /token': {
    own: 'mandate grant',
    present: async (token) => { const parts = await exchangeParts(fx, a, active.grant); parts.form.subject_token = token; return postParts(fx, parts); },
    refusal: () => oauth('ERR_MINT_SUBJECT_TOKEN', 'subject_token is not a mandate grant', 'grant_invalid'),
  },
  'subject_token (parent access token) of a sub-grant request': {
    own: 'access token',
    present: subGrantRequest,
    refusal: byForm(
      oauth('ERR_SUB_GRANT_SUBJECT_TOKEN', 'subject_token: not a compact JWS', 'sub_grant_subject_token'),
      oauth('ERR_SUB_GRANT_SUBJECT_TOKEN', 'subject_token: alg RS256 is not allowed', 'sub_grant_subject_token'),
      oauth('ERR_SUB_GRANT_SUBJECT_TOKEN', 'subject_token typ must be at+jwt', 'sub_grant_subject_token'),
    ),
  },
  'actor_token at /token': {
    own: 'attestation result',
    present: async (token) => { const parts = await exchangeParts(fx, a, active.grant); parts.form.actor_token = token; return postParts(fx, parts); },
    refusal: attestationRefusal,
  },
  'attestation at /bc-authorize': { own: 'attestation result', present: bcAuthorize, refusal: attestationRefusal },
  // The kinds are minted by agent `a`; here the opted-in main agent presents them (its own result is the control below).
  'OAuth-Client-Attestation at /token (client_credentials)': {
    own: null,
    present: clientCredentials,
    refusal: (kind) => (kind === 'attestation result' ? oauth('ERR_MINT_ACTOR_TOKEN', 'the result was issued to another agent', mandateErrorOf('ERR_ATTESTATION_SUBJECT_MISMATCH')) : attestationRefusal(kind)),
  },
  'client_assertion at /token': {
    own: 'client assertion',
    present: async (token) => { const parts = await exchangeParts(fx, a, active.grant); parts.form.client_assertion = token; return postParts(fx, parts); },
    refusal: byForm(oauth('ERR_CLIENT_ASSERTION_MALFORMED', 'not a compact JWS'), oauth('ERR_CLIENT_ASSERTION_MALFORMED', 'alg RS256 is not allowed'), oauth('ERR_CLIENT_ASSERTION_TYP', 'typ must be absent or client-authentication+jwt')),
  },
  'DPoP proof at /token': {
    own: 'DPoP proof',
    present: async (token) => { const parts = await exchangeParts(fx, a, active.grant); parts.headers.dpop = token; return postParts(fx, parts); },
    refusal: byForm(oauth('ERR_DPOP_MALFORMED', 'not a compact JWS'), oauth('ERR_DPOP_ALG', 'alg RS256 is not allowed'), oauth('ERR_DPOP_TYP', 'typ must be dpop+jwt')),
  },
  'SET at a resource server’s SSF push endpoint (SDK receiver)': {
    own: 'SSF SET',
    acceptedStatus: 202, // RFC 8935 §2.2
    present: pushSet,
    refusal: (kind) => ({ kind: 'set', err: 'invalid_request', description: kind === 'mandate grant' ? 'the body is not a valid SET' : 'typ must be secevent+jwt' }),
  },
  'status-list JWT served to a resource server in status-list mode (by a substituting proxy)': {
    own: 'status-list JWT',
    present: (token) => listedCall(token),
    refusal: () => ({ kind: 'unavailable', message: 'the status list is not a valid status list token' }),
  },
  'token at /introspect (the audience API)': { own: 'access token', present: (token) => fx.post('/introspect', { token, client_id: API, client_secret: SECRETS[API]! }), refusal: () => ({ kind: 'inactive' }) },
};

function assertOutcome(response: WireResponse | { status: number; challenge: string }, outcome: Outcome, where: string): void {
  if ('challenge' in response) {
    assert.equal(outcome.kind === 'accepted' ? 200 : outcome.kind === 'rs' ? VERIFIER_ERRORS[outcome.code][0] : -1, response.status, where);
    if (outcome.kind === 'rs') assert.deepEqual(challengeOf(response.challenge), { error: VERIFIER_ERRORS[outcome.code][1], description: outcome.message }, where);
    return;
  }
  if (outcome.kind === 'oauth') return assertOAuthError(response, outcome.code, outcome.message, outcome.mandateError);
  if (outcome.kind === 'unavailable')
    return assert.deepEqual([response.status, response.body], [503, { error: 'temporarily_unavailable', error_description: outcome.message }], where);
  if (outcome.kind === 'set') return assert.deepEqual([response.status, response.body], [400, { err: outcome.err, description: outcome.description }], where);
  assert.equal(response.status, outcome.kind === 'accepted' ? outcome.status : 200, `${where}: ${show(response)}`);
  if (outcome.kind === 'inactive') assert.deepEqual(response.body, { active: false }, where);
  else if ('active' in response.body) assert.equal(response.body.active, true, where);
}

describe('typ confusion: each token kind presented at each place (the diagonal is the accepted control)', () => {
  for (const [placeName, place] of Object.entries(TYP_PLACES)) {
    for (const kind of Object.keys(KINDS)) {
      const outcome: Outcome = kind === place.own ? { kind: 'accepted', status: place.acceptedStatus ?? 200 } : place.refusal(kind);
      const label = outcome.kind === 'accepted' ? 'accepted (control)' : outcome.kind === 'inactive' ? 'active false' : outcome.kind === 'set' ? `400 ${outcome.err}` : outcome.kind === 'unavailable' ? '503 ERR_STATUS_LIST_UNAVAILABLE (fails closed)' : outcome.code;
      test(`${kind} as ${placeName} → ${label}`, async () => {
        assertOutcome(await place.present(await KINDS[kind]!()), outcome, `${kind} @ ${placeName}`);
      });
    }
  }
  test('control for client_credentials: the opted-in agent’s own attestation result is accepted', async () => {
    const response = await clientCredentials((await main.sdk.attest()).attestation);
    assert.equal(response.status, 200, show(response));
  });
});

test('jku and x5u were never fetched by the broker or the resource server (the trap got 0 requests)', () => {
  assert.equal(trap.hits(), 0);
});
