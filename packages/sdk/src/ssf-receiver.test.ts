import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { describe, test } from 'node:test';
import { SignJWT, type JWK } from 'jose';
import { createSsfReceiver, registerSsfStream, SET_MEDIA_TYPE, SSF_EVENT } from './ssf-receiver.ts';

const ISSUER = 'https://broker.example';
const AUDIENCE = 'https://api.example';
const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const JWKS = { keys: [{ ...(publicKey.export({ format: 'jwk' }) as JWK), kid: 'k1' }] };

const seconds = (ms = Date.now()) => Math.floor(ms / 1000);
let setNo = 0;
const set = (claims: Record<string, unknown> = {}, header: Record<string, unknown> = {}, key = privateKey) =>
  new SignJWT({
    iss: ISSUER, aud: AUDIENCE, jti: `set-${++setNo}`, iat: seconds(), txn: 'mdt_1', sub_id: { format: 'jwt_id', iss: ISSUER, jti: 'tok-1' },
    events: { [SSF_EVENT.sessionRevoked]: { event_timestamp: seconds() } }, ...claims,
  })
    .setProtectedHeader({ alg: 'ES256', typ: 'secevent+jwt', kid: 'k1', ...header })
    .sign(key);

const receiverFor = (options: Partial<Parameters<typeof createSsfReceiver>[0]> = {}) => createSsfReceiver({ issuer: ISSUER, audience: AUDIENCE, jwks: JWKS, ...options });
const token = (jti: string, mandateId?: string, iat?: number) => ({ jti, ...(iat === undefined ? {} : { iat }), authorization_details: mandateId ? [{ delegation: { id: mandateId } }] : [] });

describe('the push receiver', () => {
  test('a session-revoked SET per credential is 202 and revokes that jti only', async () => {
    const receiver = receiverFor();
    assert.deepEqual(await receiver.receive(await set(), SET_MEDIA_TYPE), { status: 202 });
    assert.equal(receiver.isRevoked(token('tok-1')), true);
    assert.equal(receiver.isRevoked(token('tok-2', 'mdt_1')), false, 'txn alone revokes nothing');
  });

  test('a SET per mandate revokes every token of the mandate', async () => {
    const receiver = receiverFor();
    assert.equal((await receiver.receive(await set({ sub_id: { format: 'opaque', id: 'mdt_9' } }), SET_MEDIA_TYPE)).status, 202);
    assert.equal(receiver.isRevoked(token('any', 'mdt_9')), true);
  });

  test('a verification event reports its state and revokes nothing', async () => {
    const states: Array<string | undefined> = [];
    const receiver = receiverFor({ onVerification: (state) => states.push(state) });
    await receiver.receive(await set({ sub_id: { format: 'opaque', id: 'ssf_1' }, events: { [SSF_EVENT.verification]: { state: 's1' } } }), SET_MEDIA_TYPE);
    assert.deepEqual(states, ['s1']);
    assert.equal(receiver.size, 0);
  });

  const refused: Array<[string, () => Promise<string>, string]> = [
    ['another key', () => set({}, {}, generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey), 'invalid_key'],
    ['another issuer', () => set({ iss: 'https://evil.example' }), 'invalid_issuer'],
    ['another audience', () => set({ aud: 'https://other.example' }), 'invalid_audience'],
    ['a sub claim', () => set({ sub: 'x' }), 'invalid_request'],
    ['an exp claim', () => set({ exp: 9_999_999_999 }), 'invalid_request'],
    ['typ JWT', () => set({}, { typ: 'JWT' }), 'invalid_request'],
    ['an unknown event', () => set({ events: { 'https://example.com/other': {} } }), 'invalid_request'],
    ['two events', () => set({ events: { [SSF_EVENT.sessionRevoked]: {}, [SSF_EVENT.verification]: {} } }), 'invalid_request'],
    ['an iat older than retainSeconds', () => set({ iat: seconds() - 601 }), 'invalid_request'],
    ['an iat in the future', () => set({ iat: seconds() + 120 }), 'invalid_request'],
    ['a jwt_id of another issuer', () => set({ sub_id: { format: 'jwt_id', iss: 'https://evil.example', jti: 'tok-1' } }), 'invalid_request'],
  ];
  for (const [name, body, err] of refused) {
    test(`a SET with ${name} is 400 ${err} and records nothing`, async () => {
      const receiver = receiverFor();
      const outcome = await receiver.receive(await body(), SET_MEDIA_TYPE);
      assert.equal(outcome.status, 400);
      assert.equal(outcome.body?.err, err);
      assert.equal(receiver.size, 0);
    });
  }

  test('a SET per mandate revokes the tokens issued up to its event time, not those of a resumed mandate', async () => {
    const receiver = receiverFor();
    const revokedAt = seconds() - 30;
    assert.equal((await receiver.receive(await set({ sub_id: { format: 'opaque', id: 'mdt_5' }, events: { [SSF_EVENT.sessionRevoked]: { event_timestamp: revokedAt } } }), SET_MEDIA_TYPE)).status, 202);
    assert.equal(receiver.isRevoked(token('old', 'mdt_5', revokedAt - 10)), true);
    assert.equal(receiver.isRevoked(token('same-second', 'mdt_5', revokedAt)), true);
    assert.equal(receiver.isRevoked(token('after-resume', 'mdt_5', revokedAt + 1)), false);
    assert.equal(receiver.isRevoked(token('no-iat', 'mdt_5')), true, 'a token without iat is treated as revoked');
  });

  test('without event_timestamp the SET iat is the event time; a per-credential event stays absolute', async () => {
    const receiver = receiverFor();
    const iat = seconds() - 20;
    await receiver.receive(await set({ iat, sub_id: { format: 'opaque', id: 'mdt_6' }, events: { [SSF_EVENT.sessionRevoked]: {} } }), SET_MEDIA_TYPE);
    assert.deepEqual([iat - 1, iat, iat + 1].map((t) => receiver.isRevoked(token('x', 'mdt_6', t))), [true, true, false]);
    await receiver.receive(await set({ sub_id: { format: 'jwt_id', iss: ISSUER, jti: 'tok-7' }, events: { [SSF_EVENT.sessionRevoked]: { event_timestamp: 1 } } }), SET_MEDIA_TYPE);
    assert.equal(receiver.isRevoked(token('tok-7', undefined, seconds() + 60)), true);
  });

  test('a SET seen before (its jti) is acknowledged and not applied again', async () => {
    const states: Array<string | undefined> = [];
    const receiver = receiverFor({ onVerification: (state) => states.push(state) });
    const verification = await set({ jti: 'dup-1', sub_id: { format: 'opaque', id: 'ssf_1' }, events: { [SSF_EVENT.verification]: { state: 's1' } } });
    assert.deepEqual(await receiver.receive(verification, SET_MEDIA_TYPE), { status: 202 });
    assert.deepEqual(await receiver.receive(verification, SET_MEDIA_TYPE), { status: 202 });
    assert.deepEqual(states, ['s1'], 'the replay was dropped');
  });

  test('a body that is not application/secevent+jwt is 400', async () => {
    assert.equal((await receiverFor().receive(await set(), 'application/json')).status, 400);
  });

  test('registerSsfStream sends the client secret only to a configuration_endpoint of the issuer origin', async () => {
    const calls: Array<{ url: string; authorization?: string }> = [];
    const fetchFor = (configurationEndpoint: string) =>
      (async (url: string | URL, init?: RequestInit) => {
        calls.push({ url: String(url), authorization: (init?.headers as Record<string, string> | undefined)?.authorization });
        if (String(url).endsWith('/.well-known/ssf-configuration')) return Response.json({ configuration_endpoint: configurationEndpoint });
        return Response.json({ stream_id: 'ssf_1' }, { status: 201 });
      }) as typeof fetch;
    const registration = { issuer: ISSUER, clientId: AUDIENCE, clientSecret: 's3cret', endpointUrl: 'https://api.example/ssf/events' };
    for (const elsewhere of ['https://evil.example/ssf/streams', 'http://broker.example/ssf/streams', 'https://broker.example:8443/ssf/streams', 'not a url'])
      await assert.rejects(registerSsfStream({ ...registration, fetch: fetchFor(elsewhere) }), /not under the issuer's origin/, elsewhere);
    assert.ok(calls.every((call) => call.authorization === undefined), 'the secret was never sent');
    assert.equal((await registerSsfStream({ ...registration, fetch: fetchFor(`${ISSUER}/ssf/streams`) })).stream_id, 'ssf_1');
    assert.match(calls.at(-1)!.authorization!, /^Basic /);
  });

  test('the set is bounded: the oldest ids go first, and ids expire after retainSeconds', async () => {
    let now = 1_000_000;
    const receiver = receiverFor({ maxEntries: 2, retainSeconds: 10, now: () => now });
    for (const jti of ['a', 'b', 'c']) await receiver.receive(await set({ iat: seconds(now), sub_id: { format: 'jwt_id', iss: ISSUER, jti } }), SET_MEDIA_TYPE);
    assert.equal(receiver.size, 2);
    assert.deepEqual(['a', 'b', 'c'].map((jti) => receiver.isRevoked(token(jti))), [false, true, true]);
    now += 10_001;
    assert.equal(receiver.isRevoked(token('c')), false);
  });
});
