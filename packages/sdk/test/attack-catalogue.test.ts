// The JWT/DPoP attack catalogue against the SDK resource-server verifier (issue #11 item 1), table
// driven: every JWS-level attack runs against the hand-written module (src/jws), the verifier built
// on it, and jose's jwtVerify with the same key set and allow-list; the decisions are compared.
// The broker side of the catalogue is packages/broker/test/attack-catalogue*.test.ts; the attack
// builders are shared (packages/broker/test/support/attack-tokens.ts: node:crypto and jose only).
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { ALGS, joseJwtDecision, jwsAttacks, publicJwkOf, signJws, startFetchTrap, typSwapped, type AttackBase, type FetchTrap } from '../../broker/test/support/attack-tokens.ts';
import { JwsError, parseJws, verifyJwsSignature, type JwsFault } from '../src/jws/index.ts';
import { VerifierError, type VerifierErrorCode } from '../src/resource/errors.ts';
import { createVerifier, type Verifier } from '../src/resource/verifier.ts';
import { createSsfReceiver, SET_MEDIA_TYPE } from '../src/ssf-receiver.ts';
import type { VerifierOptions } from '../src/resource/options.ts';
import { listen } from './support/http.ts';
import { AUDIENCE, delegatedClaims, ISSUER, makeKey, PUBLIC_URL, signProof, type ProofInput, type TestKey } from './support/keys.ts';

const NOW = Math.floor(Date.now() / 1000);
const SKEW = 30;
const MAX_AGE = 60;
const issuerPair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const attackerPair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const JWKS = { keys: [{ ...publicJwkOf(issuerPair.publicKey), kid: 'k1', alg: 'ES256', use: 'sig' }] };
const HEADER = { alg: 'ES256', typ: 'at+jwt', kid: 'k1' };

let dpop: TestKey;
let otherDpop: TestKey;
let trap: FetchTrap;
let jwksServer: Awaited<ReturnType<typeof listen>>;
const jwksPaths: string[] = [];
let verifier: Verifier;
let base: AttackBase;

before(async () => {
  [dpop, otherDpop] = await Promise.all([makeKey('ES256'), makeKey('ES256')]);
  trap = await startFetchTrap();
  // The issuer's JWKS is remote, as in production: a jku/x5u fetch would be the same kind of request.
  jwksServer = await listen((req, res) => {
    jwksPaths.push(String(req.url));
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(JWKS));
  });
  verifier = makeVerifier();
  base = {
    header: HEADER, payload: delegatedClaims(NOW, dpop.jkt) as Record<string, unknown>, signer: issuerPair.privateKey, publicKey: issuerPair.publicKey,
    attacker: { privateKey: attackerPair.privateKey, publicJwk: publicJwkOf(attackerPair.publicKey) }, fetchTrap: trap.url,
  };
});
after(async () => {
  await Promise.all([trap.close(), jwksServer.close()]);
});

function makeVerifier(options: Partial<VerifierOptions> = {}, nowSeconds = NOW): Verifier {
  return createVerifier({ issuer: ISSUER, audience: AUDIENCE, jwks: `${jwksServer.url}/jwks`, publicUrl: PUBLIC_URL, now: () => nowSeconds * 1000, clockSkewSeconds: SKEW, proofMaxAgeSeconds: MAX_AGE, ...options });
}

/** The verifier's decision: 'accepted' or its code (asserting status and WWW-Authenticate agree with the code). */
async function verifierDecision(token: string, proof: Partial<ProofInput> | string = {}, v = verifier, key = dpop, url = '/items'): Promise<string> {
  const dpopHeader = typeof proof === 'string' ? proof : await signProof(key, { iat: NOW, token, ...proof });
  try {
    await v.verifyRequest({ method: 'GET', url, headers: { authorization: `DPoP ${token}`, dpop: dpopHeader } });
    return 'accepted';
  } catch (error) {
    assert.ok(error instanceof VerifierError, `not a VerifierError: ${String(error)}`);
    if (error.status !== 503) assert.match(String(error.wwwAuthenticate), /^DPoP /);
    return error.code;
  }
}

function moduleDecision(token: string): string {
  try {
    verifyJwsSignature(parseJws(token), issuerPair.publicKey);
    return 'accepted';
  } catch (error) {
    assert.ok(error instanceof JwsError, String(error));
    return error.code;
  }
}

const jose = (token: string, options: { typ?: string; currentDate?: Date; clockTolerance?: number } = {}) =>
  joseJwtDecision(token, JWKS, { typ: 'at+jwt', issuer: ISSUER, audience: AUDIENCE, currentDate: new Date(NOW * 1000), ...options });

/**
 * One row per attack: the strict module's code (against the genuine key), the verifier's code, and
 * jose's. Where jose accepts, the row names the documented difference (src/jws/README.md): the
 * module is stricter, never laxer.
 */
const JWS_TABLE: Record<string, { module: JwsFault; verifier: VerifierErrorCode; jose: string; difference?: string }> = {
  'alg-none': { module: 'ERR_JWS_ALG', verifier: 'ERR_TOKEN_ALG', jose: 'ERR_JOSE_ALG_NOT_ALLOWED' },
  'alg-none-mixed-case': { module: 'ERR_JWS_ALG', verifier: 'ERR_TOKEN_ALG', jose: 'ERR_JOSE_ALG_NOT_ALLOWED' },
  'hs256-public-pem': { module: 'ERR_JWS_ALG', verifier: 'ERR_TOKEN_ALG', jose: 'ERR_JOSE_ALG_NOT_ALLOWED' },
  'hs256-public-der': { module: 'ERR_JWS_ALG', verifier: 'ERR_TOKEN_ALG', jose: 'ERR_JOSE_ALG_NOT_ALLOWED' },
  'unknown-kid': { module: 'ERR_JWS_SIGNATURE', verifier: 'ERR_TOKEN_KEY_UNKNOWN', jose: 'ERR_JWKS_NO_MATCHING_KEY' },
  jku: { module: 'ERR_JWS_SIGNATURE', verifier: 'ERR_TOKEN_KEY_UNKNOWN', jose: 'ERR_JWKS_NO_MATCHING_KEY' },
  'jku-known-kid': { module: 'ERR_JWS_SIGNATURE', verifier: 'ERR_TOKEN_SIGNATURE', jose: 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED' },
  x5u: { module: 'ERR_JWS_SIGNATURE', verifier: 'ERR_TOKEN_KEY_UNKNOWN', jose: 'ERR_JWKS_NO_MATCHING_KEY' },
  'embedded-jwk': { module: 'ERR_JWS_SIGNATURE', verifier: 'ERR_TOKEN_SIGNATURE', jose: 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED' },
  'crit-unknown': { module: 'ERR_JWS_CRIT', verifier: 'ERR_TOKEN_MALFORMED', jose: 'ERR_JOSE_NOT_SUPPORTED' },
  'b64-false-crit': { module: 'ERR_JWS_CRIT', verifier: 'ERR_TOKEN_MALFORMED', jose: 'ERR_JWT_INVALID' },
  'b64-false': { module: 'ERR_JWS_CRIT', verifier: 'ERR_TOKEN_MALFORMED', jose: 'accepted', difference: 'critOrB64' },
  // RFC 6750 token68 allows '=' only at the end: the padded header fails the Authorization syntax first.
  'padded-header': { module: 'ERR_JWS_HEADER', verifier: 'ERR_TOKEN_MALFORMED', jose: 'accepted', difference: 'nonCanonicalBase64url' },
  'padded-signature': { module: 'ERR_JWS_SIGNATURE', verifier: 'ERR_TOKEN_SIGNATURE', jose: 'accepted', difference: 'nonCanonicalBase64url' },
  'duplicate-alg-none-last': { module: 'ERR_JWS_HEADER', verifier: 'ERR_TOKEN_MALFORMED', jose: 'ERR_JOSE_ALG_NOT_ALLOWED' },
  'duplicate-alg-none-first': { module: 'ERR_JWS_HEADER', verifier: 'ERR_TOKEN_MALFORMED', jose: 'accepted', difference: 'duplicateMember' },
  'alg-swap-eddsa': { module: 'ERR_JWS_ALG', verifier: 'ERR_TOKEN_KEY_UNKNOWN', jose: 'ERR_JWKS_NO_MATCHING_KEY' },
  'kid-injection': { module: 'ERR_JWS_SIGNATURE', verifier: 'ERR_TOKEN_KEY_UNKNOWN', jose: 'ERR_JWKS_NO_MATCHING_KEY' },
  'signature-stripped': { module: 'ERR_JWS_SIGNATURE', verifier: 'ERR_TOKEN_SIGNATURE', jose: 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED' },
  'psychic-signature': { module: 'ERR_JWS_SIGNATURE', verifier: 'ERR_TOKEN_SIGNATURE', jose: 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED' },
};

describe('JWS-level attacks on an access token: strict module, SDK verifier and jose', () => {
  test('control: the genuine token is accepted by all three (so every rejection below is the attack)', async () => {
    const genuine = signJws(HEADER, base.payload, issuerPair.privateKey);
    assert.deepEqual([moduleDecision(genuine), await verifierDecision(genuine), await jose(genuine)], ['accepted', 'accepted', 'accepted']);
  });
  test('the table names every attack the builder makes', () => {
    assert.deepEqual(jwsAttacks({ ...base }).map((a) => a.id).sort(), Object.keys(JWS_TABLE).sort());
  });
  for (const [id, want] of Object.entries(JWS_TABLE)) {
    test(`${id}: module ${want.module}, verifier ${want.verifier}, jose ${want.jose}${want.difference ? ` (documented: ${want.difference})` : ''}`, async () => {
      const attack = jwsAttacks(base).find((a) => a.id === id)!;
      assert.equal(moduleDecision(attack.token), want.module, attack.title);
      assert.equal(await verifierDecision(attack.token), want.verifier, attack.title);
      assert.equal(await jose(attack.token), want.jose, attack.title);
      // A documented difference is a refusal by the module that jose does not make, never the reverse.
      if (want.jose === 'accepted') assert.ok(want.difference, `${id}: jose accepts without a documented difference`);
    });
  }
  test('jku and x5u are never fetched: the trap got no request, the JWKS server only /jwks', () => {
    assert.equal(trap.hits(), 0);
    assert.ok(jwksPaths.length > 0 && jwksPaths.every((path) => path === '/jwks'), jwksPaths.join(','));
  });
});

/**
 * RFC 8725 §3.11 / RFC 9068 §4: the broker signs access tokens, attestation results, status lists,
 * SETs and audit heads with ONE key, so `typ` alone tells them apart. Each is signed here by the
 * issuer key with the access-token claims, as the worst case (a genuine signature).
 */
const TYP_TABLE: Array<[string | undefined, 'accepted' | 'ERR_TOKEN_TYP']> = [
  ['at+jwt', 'accepted'], ['application/at+jwt', 'accepted'], ['AT+JWT', 'accepted'],
  [undefined, 'ERR_TOKEN_TYP'], ['JWT', 'ERR_TOKEN_TYP'], ['dpop+jwt', 'ERR_TOKEN_TYP'], ['attestation-result+jwt', 'ERR_TOKEN_TYP'],
  ['statuslist+jwt', 'ERR_TOKEN_TYP'], ['secevent+jwt', 'ERR_TOKEN_TYP'], ['client-authentication+jwt', 'ERR_TOKEN_TYP'],
  ['audit-head+jwt', 'ERR_TOKEN_TYP'], ['at+jwt ', 'ERR_TOKEN_TYP'], ['application/jwt', 'ERR_TOKEN_TYP'], ['at+jwt; q=1', 'ERR_TOKEN_TYP'],
];

describe('typ confusion at the verifier, compared with jose (typ: at+jwt)', () => {
  for (const [typ, want] of TYP_TABLE) {
    test(`typ ${JSON.stringify(typ)} signed by the issuer key → ${want}, and jose decides the same`, async () => {
      const token = typSwapped(base, typ);
      assert.equal(await verifierDecision(token), want);
      assert.equal((await jose(token)) === 'accepted', want === 'accepted');
    });
  }
});

/** Claims at the skew limits: one second inside passes, the limit itself fails (RFC 7519 §4.1.4/§4.1.5). */
const SKEW_TABLE: Array<[string, Record<string, unknown>, 'accepted' | VerifierErrorCode]> = [
  ['exp one second inside the skew', { exp: NOW - SKEW + 1 }, 'accepted'],
  ['exp exactly at the skew', { exp: NOW - SKEW }, 'ERR_TOKEN_EXPIRED'],
  ['exp far past', { exp: NOW - 3600 }, 'ERR_TOKEN_EXPIRED'],
  ['nbf at the skew', { nbf: NOW + SKEW }, 'accepted'],
  ['nbf one second beyond the skew', { nbf: NOW + SKEW + 1 }, 'ERR_TOKEN_NOT_YET_VALID'],
  ['nbf that is a string', { nbf: String(NOW) }, 'ERR_TOKEN_NOT_YET_VALID'],
  ['exp that is a string', { exp: String(NOW + 60) }, 'ERR_TOKEN_CLAIMS'],
];

describe('expired and not-yet-valid access tokens at the skew limits, compared with jose (clockTolerance = skew)', () => {
  for (const [name, claims, want] of SKEW_TABLE) {
    test(`${name} → ${want}`, async () => {
      const token = signJws(HEADER, { ...base.payload, ...claims }, issuerPair.privateKey);
      assert.equal(await verifierDecision(token), want);
      assert.equal((await jose(token, { clockTolerance: SKEW })) === 'accepted', want === 'accepted');
    });
  }
  test('task notAfter: at the skew passes, one second beyond fails (ERR_TOKEN_EXPIRED)', async () => {
    const withNotAfter = (notAfter: number) => {
      const [task] = base.payload.authorization_details as Array<Record<string, unknown>>;
      return signJws(HEADER, { ...base.payload, authorization_details: [{ ...task, constraints: { notAfter } }] }, issuerPair.privateKey);
    };
    assert.equal(await verifierDecision(withNotAfter(NOW - SKEW)), 'accepted');
    assert.equal(await verifierDecision(withNotAfter(NOW - SKEW - 1)), 'ERR_TOKEN_EXPIRED');
  });
});

/** RFC 9449 §4.3 (9) htu tricks against publicUrl https://api.example.com and the request GET /items. */
const HTU_TABLE: Array<[string, string, 'accepted' | 'ERR_DPOP_HTU']> = [
  ['query ignored', `${PUBLIC_URL}/items?x=1`, 'accepted'],
  ['fragment ignored', `${PUBLIC_URL}/items#top`, 'accepted'],
  ['host case normalized', 'https://API.Example.COM/items', 'accepted'],
  ['scheme case normalized', 'HTTPS://api.example.com/items', 'accepted'],
  ['explicit default port', 'https://api.example.com:443/items', 'accepted'],
  ['dot segments removed', 'https://api.example.com/a/../items', 'accepted'],
  // RFC 3986 §6.2.2.2 would decode %69 to i; the verifier does not (stricter: the client retries with its own htu).
  ['percent-encoded unreserved character', 'https://api.example.com/%69tems', 'ERR_DPOP_HTU'],
  ['trailing slash', `${PUBLIC_URL}/items/`, 'ERR_DPOP_HTU'],
  ['path case', `${PUBLIC_URL}/ITEMS`, 'ERR_DPOP_HTU'],
  ['another port', 'https://api.example.com:8443/items', 'ERR_DPOP_HTU'],
  ['http instead of https', 'http://api.example.com/items', 'ERR_DPOP_HTU'],
  ['userinfo', 'https://user@api.example.com/items', 'ERR_DPOP_HTU'],
  ['suffix host', 'https://api.example.com.evil.example/items', 'ERR_DPOP_HTU'],
  ['relative htu', '/items', 'ERR_DPOP_HTU'],
  ['encoded slash', `${PUBLIC_URL}/items%2F`, 'ERR_DPOP_HTU'],
];

describe('DPoP proofs at the verifier: htu tricks, htm, iat window limits', () => {
  let token: string;
  before(() => {
    token = signJws(HEADER, base.payload, issuerPair.privateKey);
  });
  for (const [name, htu, want] of HTU_TABLE) {
    test(`htu ${name} (${htu}) → ${want}`, async () => {
      assert.equal(await verifierDecision(token, { htu }), want);
    });
  }
  test('a request with a query is matched by a proof without it (the query is not part of htu)', async () => {
    assert.equal(await verifierDecision(token, {}, verifier, dpop, '/items?page=2'), 'accepted');
  });
  test('htm in lower case, and another method → ERR_DPOP_HTM', async () => {
    assert.equal(await verifierDecision(token, { htm: 'get' }), 'ERR_DPOP_HTM');
    assert.equal(await verifierDecision(token, { htm: 'POST' }), 'ERR_DPOP_HTM');
  });
  const IAT: Array<[string, number, 'accepted' | 'ERR_DPOP_IAT']> = [
    ['at the future skew', NOW + SKEW, 'accepted'], ['one second past the future skew', NOW + SKEW + 1, 'ERR_DPOP_IAT'],
    ['at the maximum age', NOW - MAX_AGE, 'accepted'], ['one second older than the maximum age', NOW - MAX_AGE - 1, 'ERR_DPOP_IAT'],
  ];
  for (const [name, iat, want] of IAT) {
    test(`iat ${name} → ${want}`, async () => {
      assert.equal(await verifierDecision(token, { iat }), want);
    });
  }
  test('iat as a fraction or a string → ERR_DPOP_IAT', async () => {
    assert.equal(await verifierDecision(token, { claims: { iat: NOW + 0.5 } }), 'ERR_DPOP_IAT');
    assert.equal(await verifierDecision(token, { claims: { iat: String(NOW) } }), 'ERR_DPOP_IAT');
  });
  test('a proof replayed across two verifiers sharing nothing is each one’s first use, but twice at one is ERR_DPOP_REPLAY', async () => {
    const proof = await signProof(dpop, { iat: NOW, token });
    const fresh = makeVerifier();
    assert.equal(await verifierDecision(token, proof, fresh), 'accepted');
    assert.equal(await verifierDecision(token, proof, fresh), 'ERR_DPOP_REPLAY');
  });
  test('a proof whose jwk carries d (private key material) → ERR_DPOP_JWK, even when signed by that very key', async () => {
    const { exportJWK } = await import('jose');
    const privateJwk = await exportJWK(dpop.privateKey);
    assert.equal(await verifierDecision(token, { header: { jwk: privateJwk } }), 'ERR_DPOP_JWK');
  });
  test('a proof by another key than cnf.jkt → ERR_DPOP_KEY_MISMATCH', async () => {
    assert.equal(await verifierDecision(token, {}, verifier, otherDpop), 'ERR_DPOP_KEY_MISMATCH');
  });
  test('ath: missing, of another token, of the token with padding → ERR_DPOP_ATH', async () => {
    const proofWithout = await signProof(dpop, { iat: NOW });
    assert.equal(await verifierDecision(token, proofWithout), 'ERR_DPOP_ATH');
    assert.equal(await verifierDecision(token, { claims: { ath: 'A'.repeat(43) } }), 'ERR_DPOP_ATH');
    const { ath } = await import('./support/keys.ts');
    assert.equal(await verifierDecision(token, { claims: { ath: `${ath(token)}=` } }), 'ERR_DPOP_ATH');
  });
  test('requireNonce: a proof without a nonce → ERR_DPOP_NONCE with a DPoP-Nonce to retry with', async () => {
    const strict = makeVerifier({ requireNonce: true, nonceSecret: 'n'.repeat(32) });
    const proof = await signProof(dpop, { iat: NOW, token });
    await assert.rejects(strict.verifyRequest({ method: 'GET', url: '/items', headers: { authorization: `DPoP ${token}`, dpop: proof } }), (error: unknown) => {
      assert.ok(error instanceof VerifierError);
      assert.equal(error.code, 'ERR_DPOP_NONCE');
      assert.equal(error.error, 'use_dpop_nonce');
      assert.match(String(error.headers['DPoP-Nonce']), /^[A-Za-z0-9_.-]+$/);
      return true;
    });
  });
});

/**
 * A resource server's SSF push endpoint is open to anyone (RFC 8935): forged SETs must be refused
 * for good (400 with `err`, which the transmitter does not retry), but a SET the receiver could not
 * check because the issuer's JWKS was unreachable must be retryable — else a revocation is lost.
 */
describe('SSF push endpoint (SDK receiver): forged SETs are final refusals, an unreachable JWKS is retryable', () => {
  const setOf = (kid = 'k1') => signJws({ alg: 'ES256', typ: 'secevent+jwt', kid }, {
    iss: ISSUER, aud: AUDIENCE, jti: `set-${Math.random()}`, iat: NOW, txn: 'mdt_1',
    sub_id: { format: 'jwt_id', iss: ISSUER, jti: 'at-1' }, events: { 'https://schemas.openid.net/secevent/caep/event-type/session-revoked': { event_timestamp: NOW } },
  }, issuerPair.privateKey);
  test('control: a genuine SET → 202', async () => {
    const receiver = createSsfReceiver({ issuer: ISSUER, audience: AUDIENCE, jwks: `${jwksServer.url}/jwks`, now: () => NOW * 1000 });
    assert.deepEqual(await receiver.receive(setOf(), SET_MEDIA_TYPE), { status: 202 });
  });
  test('alg none, and a kid nobody published → 400 (final)', async () => {
    const receiver = createSsfReceiver({ issuer: ISSUER, audience: AUDIENCE, jwks: `${jwksServer.url}/jwks`, now: () => NOW * 1000 });
    const [h, p] = setOf().split('.');
    const none = `${Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(h!, 'base64url').toString()), alg: 'none' })).toString('base64url')}.${p}.`;
    assert.deepEqual(await receiver.receive(none, SET_MEDIA_TYPE), { status: 400, body: { err: 'invalid_request', description: 'the body is not a valid SET' } });
    assert.deepEqual(await receiver.receive(setOf('attacker-kid'), SET_MEDIA_TYPE), { status: 400, body: { err: 'invalid_key', description: 'no issuer key matches the SET' } });
  });
  test('the issuer JWKS unreachable → 503 without err (the transmitter retries), not 400 invalid_key', async () => {
    const dead = await listen((_req, res) => res.end());
    await dead.close();
    const receiver = createSsfReceiver({ issuer: ISSUER, audience: AUDIENCE, jwks: `${dead.url}/jwks`, now: () => NOW * 1000 });
    assert.deepEqual(await receiver.receive(setOf(), SET_MEDIA_TYPE), { status: 503 });
  });
});

test('the allow-list jose is given is the verifier’s own (ES256, EdDSA)', async () => {
  const { SIGNING_ALGS } = await import('../src/protocol/index.ts');
  assert.deepEqual([...SIGNING_ALGS], ALGS);
});
