import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { CLIENT_ASSERTION_TYPE } from '@mandate/sdk/protocol';
import { createMemoryReplayCache } from '../../src/attestors/memory-replay-cache.ts';
import { MandateError } from '../../src/core/errors.ts';
import type { Agent } from '../../src/core/model.ts';
import { parseUrlEncoded } from '../../src/http/middleware/form-urlencoded.ts';
import { parseStrictJson } from '../../src/http/middleware/strict-json.ts';
import { createClientAuthenticator } from '../../src/proof/client-assertion.ts';
import { createDpopVerifier } from '../../src/proof/dpop.ts';
import { thumbprint } from '../../src/proof/jwk-thumbprint.ts';
import { JwsError, parseJws, verifyJwsSignature } from '../../src/proof/jws.ts';
import { createDpopNonces } from '../../src/proof/nonce.ts';
import { configTarget } from './fuzz-config-target.ts';
import { fuzz, type FuzzTarget } from './fuzz-harness.ts';
import { fieldMutations, jwsMutation, mutatedJws, mutateFields, mutateString, signingKey, stringMutations } from './fuzz-mutate.ts';
import { smallParsers } from './fuzz-small-parsers.ts';

/**
 * In-process fuzz targets: every request parser and proof checker of the broker, fed random
 * inputs and mutations of valid ones. Each returns its tally; the caller sets runs and seed.
 */


export const isMandateError = (error: unknown) => error instanceof MandateError;
export const ISSUER = 'http://127.0.0.1:7420';

// ---------- forms (WHATWG urlencoded, RFC 6749 §3.1) ----------

const VALID_FORM = `grant_type=${encodeURIComponent('urn:ietf:params:oauth:grant-type:token-exchange')}&client_id=agt_AAAAAAAAAAAAAAAAAAAAAA&client_assertion_type=${encodeURIComponent(CLIENT_ASSERTION_TYPE)}&client_assertion=eyJhbGciOiJFUzI1NiJ9.e30.AAAA&resource=${encodeURIComponent('https://api.example.com')}&scope=read+write`;

const formInput = fc.oneof(
  fc.string({ maxLength: 200 }).map((text) => ({ text, expect: undefined })),
  fc.string({ unit: 'binary', maxLength: 200 }).map((text) => ({ text, expect: undefined })),
  stringMutations.map((edits) => ({ text: mutateString(edits, VALID_FORM), expect: undefined })),
  // Any dictionary, encoded by URLSearchParams, must come back exactly (the round trip property).
  fc.dictionary(fc.string({ minLength: 1, maxLength: 12 }), fc.string({ maxLength: 40 }), { noNullPrototype: true }).map((d) => ({ text: new URLSearchParams(d).toString(), expect: d as Record<string, string> | undefined })),
);

/** No lone surrogate (String#isWellFormed, which the es2022 lib does not declare). */
const wellFormed = (text: string) => !/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(text);

const forms: FuzzTarget = {
  name: 'parser form-urlencoded',
  weight: 3,
  run: (options) =>
    fuzz('parser form-urlencoded', formInput, ({ text, expect }) => {
      const parsed = parseUrlEncoded(text, 'ERR_REQUEST_MALFORMED_BODY', new Set(['resource']));
      assert.equal(Object.getPrototypeOf(parsed), null);
      // Lone surrogates are not UTF-8: URLSearchParams writes U+FFFD, so compare only well-formed dictionaries.
      if (expect && Object.entries(expect).every(([k, v]) => wellFormed(k) && wellFormed(v))) assert.deepEqual({ ...parsed }, expect);
    }, isMandateError, options),
};

// ---------- strict JSON (RFC 8259) ----------

const VALID_ATTEST_BODY = JSON.stringify({ nonce: 'n'.repeat(54), evidence: [{ attestor: 'oidc-token', evidence: 'eyJ.eyJ.sig' }, { attestor: 'code-digest', evidence: { digest: `sha256:${'a'.repeat(64)}` } }] });

const jsonInput = fc.oneof(
  fc.json({ maxDepth: 6 }),
  fc.string({ maxLength: 120 }),
  stringMutations.map((edits) => mutateString(edits, VALID_ATTEST_BODY)),
  fieldMutations.map((ms) => JSON.stringify(mutateFields(ms, JSON.parse(VALID_ATTEST_BODY) as unknown))),
  fc.nat({ max: 40 }).map((depth) => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`),
  fc.constantFrom('{"a":1,"a":2}', '{"a":1,"\\u0061":2}', '{"__proto__":{}}', '{"constructor":1}', '\ufeff{}', '{"a":"\\ud800"}', ' { } ', '{}garbage'),
);

const strictJson: FuzzTarget = {
  name: 'parser strict-json',
  weight: 3,
  run: (options) =>
    fuzz('parser strict-json', jsonInput, (text) => {
      const value = parseStrictJson(text);
      // Whatever it accepts is exactly what JSON.parse reads, and an object.
      assert.deepEqual(value, JSON.parse(text));
      assert.ok(typeof value === 'object' && value !== null && !Array.isArray(value));
    }, isMandateError, options),
};

// ---------- JWS (RFC 7515 compact, RFC 8725) ----------

export const keys = { ES256: signingKey('ES256'), EdDSA: signingKey('EdDSA') };
const jwsInput = fc.record({ alg: fc.constantFrom('ES256' as const, 'EdDSA' as const), mutation: jwsMutation });

const jws: FuzzTarget = {
  name: 'parser jws (parseJws + verifyJwsSignature)',
  weight: 3,
  run: (options) =>
    fuzz('parser jws', jwsInput, ({ alg, mutation }) => {
      const key = keys[alg];
      const header = { alg, typ: 'JWT', kid: 'k1' };
      const payload = { iss: ISSUER, sub: 'usr_AAAAAAAAAAAAAAAAAAAAAA', aud: 'https://api.example.com', iat: 1_700_000_000, exp: 1_700_000_300, nested: { list: [1, 'two', { three: 3 }] } };
      const { token, tampered } = mutatedJws(mutation, header, payload, key.privateKey);
      verifyJwsSignature(parseJws(token), key.publicKey);
      // A token whose text changed after signing and still verified would be a forgery.
      assert.ok(!tampered, `a tampered token verified: ${token}`);
    }, (error) => error instanceof JwsError, options),
};

// ---------- DPoP proofs at the broker (RFC 9449 §4.3) ----------

const dpopInput = fc.record({
  alg: fc.constantFrom('ES256' as const, 'EdDSA' as const),
  mutation: jwsMutation,
  withToken: fc.boolean(),
  withNonce: fc.boolean(),
  headers: fc.constantFrom('one', 'one', 'one', 'one', 'none', 'two'),
  method: fc.constantFrom('POST', 'POST', 'POST', 'GET', 'post'),
});

function dpop(): FuzzTarget {
  const clock = { now: () => Date.now() };
  const nonces = createDpopNonces(randomBytes(32), clock, 300);
  const verify = createDpopVerifier({ replay: createMemoryReplayCache(), clock, nonces, requireNonce: false, iatWindowSeconds: 60 });
  const url = `${ISSUER}/token`;
  return {
    name: 'parser dpop (broker)',
    weight: 3,
    run: (options) =>
      fuzz('parser dpop (broker)', dpopInput, async (input) => {
        const key = keys[input.alg];
        const accessToken = 'eyJ.access.token';
        const payload: Record<string, unknown> = { jti: randomBytes(12).toString('base64url'), htm: 'POST', htu: url, iat: Math.floor(clock.now() / 1000) };
        if (input.withToken) payload.ath = createHash('sha256').update(accessToken).digest('base64url');
        if (input.withNonce) payload.nonce = nonces.current();
        const { token: proof, tampered } = mutatedJws(input.mutation, { alg: input.alg, typ: 'dpop+jwt', jwk: key.publicJwk }, payload, key.privateKey);
        const headerValues = input.headers === 'one' ? [proof] : input.headers === 'two' ? [proof, proof] : [];
        const verified = await verify({ headerValues, method: input.method, url, ...(input.withToken ? { accessToken } : {}) });
        assert.ok(!tampered, `a tampered proof verified: ${proof}`);
        assert.equal(verified.jkt, thumbprint(key.publicJwk));
      }, isMandateError, options),
  };
}

// ---------- private_key_jwt client assertions (RFC 7523 §3, PROTOCOL §2) ----------

export const AGENT_ID = 'agt_FUZZFUZZFUZZFUZZFUZZFU';

const assertionInput = fc.record({
  mutation: jwsMutation,
  clientId: fc.oneof(fc.constant<'same' | 'absent' | 'other'>('same'), fc.constantFrom<'same' | 'absent' | 'other'>('absent', 'other')),
  assertionType: fc.oneof(fc.constant(CLIENT_ASSERTION_TYPE), fc.constant(undefined), stringMutations.map((edits) => mutateString(edits, CLIENT_ASSERTION_TYPE))),
  dropAssertion: fc.integer({ min: 0, max: 9 }).map((n) => n === 0),
});

function clientAssertion(): FuzzTarget {
  const key = keys.ES256;
  const agent: Agent = {
    id: AGENT_ID, name: 'fuzz', kind: 'ai_agent', status: 'active', owners: ['usr_AAAAAAAAAAAAAAAAAAAAAA'], approvers: ['usr_AAAAAAAAAAAAAAAAAAAAAA'],
    policy: 'default', jwk: key.publicJwk, jwkThumbprint: thumbprint(key.publicJwk), reviewDueAt: null, createdAt: 0, lastSeenAt: null,
  };
  const clock = { now: () => Date.now() };
  const authenticate = createClientAuthenticator({
    agents: { get: async (id: string) => (id === AGENT_ID ? agent : undefined), touch: async () => undefined } as never,
    replay: createMemoryReplayCache(), clock, issuer: ISSUER, skewSeconds: 30,
  });
  return {
    name: 'parser client assertion',
    weight: 3,
    run: (options) =>
      fuzz('parser client assertion', assertionInput, async (input) => {
        const now = Math.floor(clock.now() / 1000);
        const payload = { iss: AGENT_ID, sub: AGENT_ID, aud: ISSUER, iat: now, exp: now + 30, jti: randomBytes(12).toString('base64url') };
        const { token: assertion, tampered } = mutatedJws(input.mutation, { alg: 'ES256' }, payload, key.privateKey);
        const clientId = input.clientId === 'same' ? AGENT_ID : input.clientId === 'other' ? 'agt_BBBBBBBBBBBBBBBBBBBBBB' : undefined;
        const found = await authenticate({ client_id: clientId, client_assertion_type: input.assertionType, client_assertion: input.dropAssertion ? undefined : assertion });
        assert.ok(!tampered, `a tampered assertion authenticated: ${assertion}`);
        assert.equal(found.id, AGENT_ID);
      }, isMandateError, options),
  };
}

/** Every in-process parser target; `close` removes temporary files. */
export function parserTargets(): { targets: FuzzTarget[]; close(): void } {
  const config = configTarget();
  return { targets: [forms, strictJson, jws, dpop(), clientAssertion(), smallParsers(), config], close: config.close };
}
