// Fuzz targets of the SDK's untrusted-input paths (issue #11 item 2): the resource-server verifier
// (access token + DPoP proof + Authorization header, RFC 9068 / RFC 9449), the SSF push receiver
// (RFC 8935 SETs) and the status-list decoder. Valid inputs are signed for real with keys made now,
// then one part is changed. The mutation recipes and the oracle harness are shared with the
// broker's fuzz files (packages/broker/test/support/fuzz-{mutate,harness}.ts: test code only).
import assert from 'node:assert/strict';
import { KeyObject, randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { fuzz, type FuzzTarget } from '../../../broker/test/support/fuzz-harness.ts';
import { jwsMutation, mutatedJws, mutateString, stringMutations, type JwsMutation, type StringMutation } from '../../../broker/test/support/fuzz-mutate.ts';
import { createVerifier, VerifierError } from '../../src/index.ts';
import { createSsfReceiver, SET_MEDIA_TYPE, SSF_EVENT } from '../../src/ssf-receiver.ts';
import { decodeStatusList, encodeStatusList } from '../../src/status-list.ts';
import { ath, AUDIENCE, delegatedClaims, ISSUER, makeKey, PUBLIC_URL, type TestKey } from './keys.ts';

interface Keys {
  issuer: TestKey;
  issuerPrivate: KeyObject;
  dpop: TestKey;
  dpopPrivate: KeyObject;
}

type RequestMutation =
  | { part: 'token'; jws: JwsMutation }
  | { part: 'proof'; jws: JwsMutation }
  | { part: 'authorization'; edits: StringMutation[] }
  | { part: 'scheme'; scheme: string }
  | { part: 'dpop-header'; edit: 'drop' | 'double' | 'comma' }
  | { part: 'request'; method: string; url: string };

const requestMutation: fc.Arbitrary<RequestMutation> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ part: fc.constant('token' as const), jws: jwsMutation }) },
  { weight: 5, arbitrary: fc.record({ part: fc.constant('proof' as const), jws: jwsMutation }) },
  { weight: 2, arbitrary: fc.record({ part: fc.constant('authorization' as const), edits: stringMutations }) },
  { weight: 1, arbitrary: fc.record({ part: fc.constant('scheme' as const), scheme: fc.constantFrom('DPoP', 'dpop', 'Bearer', 'DPoP  ', 'Basic', '', 'DPoP\t') }) },
  { weight: 1, arbitrary: fc.record({ part: fc.constant('dpop-header' as const), edit: fc.constantFrom('drop' as const, 'double' as const, 'comma' as const) }) },
  { weight: 1, arbitrary: fc.record({ part: fc.constant('request' as const), method: fc.constantFrom('GET', 'get', 'POST', 'PUT', ''), url: fc.constantFrom('/items', '/items/', '/items?x=1', '/Items', '//items', '/items#f', 'https://evil.example/items', '/%2e%2e/items', '') }) },
);

const isVerifierError = (error: unknown) => error instanceof VerifierError;

/** The verifier over a static JWKS: every input a fresh token and proof, one part changed. */
function verifierTarget(keys: Keys): FuzzTarget {
  const verifier = createVerifier({ issuer: ISSUER, audience: AUDIENCE, jwks: { keys: [keys.issuer.publicJwk] } as never, publicUrl: PUBLIC_URL });
  return {
    name: 'sdk verifier (access token + DPoP proof)',
    weight: 6,
    run: (options) =>
      fuzz('sdk verifier', requestMutation, async (m) => {
        const now = Math.floor(Date.now() / 1000);
        const token = mutatedJws(m.part === 'token' ? m.jws : { where: 'none' }, { alg: 'ES256', typ: 'at+jwt', kid: 'k1' }, delegatedClaims(now, keys.dpop.jkt) as Record<string, unknown>, keys.issuerPrivate);
        const method = m.part === 'request' ? m.method : 'GET';
        const url = m.part === 'request' ? m.url : '/items';
        const proofPayload = { jti: randomUUID(), htm: 'GET', htu: `${PUBLIC_URL}/items`, iat: now, ath: ath(token.token) };
        const proof = mutatedJws(m.part === 'proof' ? m.jws : { where: 'none' }, { alg: 'ES256', typ: 'dpop+jwt', jwk: keys.dpop.publicJwk }, proofPayload, keys.dpopPrivate);
        let authorization = `${m.part === 'scheme' ? m.scheme : 'DPoP'} ${token.token}`;
        if (m.part === 'authorization') authorization = mutateString(m.edits, authorization);
        const headers: Record<string, string | string[]> = { authorization };
        if (m.part !== 'dpop-header' || m.edit !== 'drop') headers.dpop = m.part === 'dpop-header' ? (m.edit === 'double' ? [proof.token, proof.token] : `${proof.token},${proof.token}`) : proof.token;
        const result = await verifier.verifyRequest({ method, url, headers });
        // A header value's surrounding whitespace is not part of it (RFC 9110 §5.5): a proof only
        // wrapped in spaces or tabs is the same proof.
        assert.ok(!token.tampered && !(proof.tampered && proof.token.trim() !== proof.valid), 'a tampered token or proof was accepted');
        assert.equal(result.jkt, keys.dpop.jkt);
      }, isVerifierError, options),
  };
}

const setMutation = fc.record({ jws: jwsMutation, contentType: fc.constantFrom(SET_MEDIA_TYPE, SET_MEDIA_TYPE, SET_MEDIA_TYPE, 'application/jwt', `${SET_MEDIA_TYPE}; charset=utf-8`, '') });

/** The SSF push receiver: every outcome is 202 or 400 with RFC 8935 `{err, description}`, never a throw. */
function ssfTarget(keys: Keys): FuzzTarget {
  const receiver = createSsfReceiver({ issuer: ISSUER, audience: AUDIENCE, jwks: { keys: [keys.issuer.publicJwk] } as never });
  return {
    name: 'sdk ssf receiver (SET push)',
    weight: 2,
    run: async (options) => {
      let accepted = 0;
      const tally = await fuzz('sdk ssf receiver', setMutation, async ({ jws, contentType }) => {
        const now = Math.floor(Date.now() / 1000);
        const payload = { iss: ISSUER, aud: AUDIENCE, jti: randomUUID(), iat: now, txn: 'mdt_1', sub_id: { format: 'jwt_id', iss: ISSUER, jti: randomUUID() }, events: { [SSF_EVENT.sessionRevoked]: { event_timestamp: now } } };
        const set = mutatedJws(jws, { alg: 'ES256', typ: 'secevent+jwt', kid: 'k1' }, payload, keys.issuerPrivate);
        const outcome = await receiver.receive(set.token, contentType);
        if (outcome.status === 202) {
          accepted += 1;
          // The receiver trims the body: surrounding whitespace is not part of the SET.
          assert.ok(!(set.tampered && set.token.trim() !== set.valid), 'a tampered SET was accepted');
        } else {
          assert.equal(outcome.status, 400);
          assert.equal(typeof outcome.body?.err, 'string');
        }
      }, () => false, options);
      console.log(`fuzz sdk ssf receiver: answered 202 ${accepted}, 400 ${tally.tried - accepted}`);
      return tally;
    },
  };
}

/**
 * decodeStatusList's refusals: its own TypeError for text that is not base64url, and zlib's coded
 * errors for a stream that is not ZLIB or inflates past the bound. Any other error is a crash.
 */
function isStatusListRefusal(error: unknown): boolean {
  if (error instanceof TypeError && error.message === 'lst is not base64url') return true;
  const code = String((error as { code?: unknown } | null)?.code ?? '');
  return error instanceof Error && (code.startsWith('Z_') || code === 'ERR_BUFFER_TOO_LARGE');
}

const statusListInput = fc.oneof(
  fc.string({ maxLength: 60 }),
  fc.tuple(fc.uniqueArray(fc.nat({ max: 4000 }), { maxLength: 20 }), stringMutations).map(([revoked, edits]) => mutateString(edits, encodeStatusList(revoked, 4096))),
  fc.uint8Array({ maxLength: 80 }).map((bytes) => Buffer.from(bytes).toString('base64url')),
);

function statusListTarget(): FuzzTarget {
  return {
    name: 'sdk status list decode',
    weight: 1,
    run: (options) =>
      fuzz('sdk status list decode', statusListInput, (lst) => decodeStatusList(lst), isStatusListRefusal, options),
  };
}

export async function sdkTargets(): Promise<FuzzTarget[]> {
  const issuer = await makeKey('ES256', 'k1');
  const dpop = await makeKey('ES256');
  const keys: Keys = { issuer, issuerPrivate: KeyObject.from(issuer.privateKey), dpop, dpopPrivate: KeyObject.from(dpop.privateKey) };
  return [verifierTarget(keys), ssfTarget(keys), statusListTarget()];
}
