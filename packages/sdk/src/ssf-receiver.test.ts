import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { describe, test } from 'node:test';
import { SignJWT, type JWK } from 'jose';
import { createSsfReceiver, SET_MEDIA_TYPE, SSF_EVENT } from './ssf-receiver.ts';

const ISSUER = 'https://broker.example';
const AUDIENCE = 'https://api.example';
const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const JWKS = { keys: [{ ...(publicKey.export({ format: 'jwk' }) as JWK), kid: 'k1' }] };

const set = (claims: Record<string, unknown> = {}, header: Record<string, unknown> = {}, key = privateKey) =>
  new SignJWT({ iss: ISSUER, aud: AUDIENCE, jti: 'set-1', txn: 'mdt_1', sub_id: { format: 'jwt_id', iss: ISSUER, jti: 'tok-1' }, events: { [SSF_EVENT.sessionRevoked]: { event_timestamp: 1 } }, ...claims })
    .setProtectedHeader({ alg: 'ES256', typ: 'secevent+jwt', kid: 'k1', ...header })
    .setIssuedAt()
    .sign(key);

const receiverFor = (options: Partial<Parameters<typeof createSsfReceiver>[0]> = {}) => createSsfReceiver({ issuer: ISSUER, audience: AUDIENCE, jwks: JWKS, ...options });
const token = (jti: string, mandateId?: string) => ({ jti, authorization_details: mandateId ? [{ delegation: { id: mandateId } }] : [] });

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

  test('a body that is not application/secevent+jwt is 400', async () => {
    assert.equal((await receiverFor().receive(await set(), 'application/json')).status, 400);
  });

  test('the set is bounded: the oldest ids go first, and ids expire after retainSeconds', async () => {
    let now = 1_000_000;
    const receiver = receiverFor({ maxEntries: 2, retainSeconds: 10, now: () => now });
    for (const jti of ['a', 'b', 'c']) await receiver.receive(await set({ sub_id: { format: 'jwt_id', iss: ISSUER, jti } }), SET_MEDIA_TYPE);
    assert.equal(receiver.size, 2);
    assert.deepEqual(['a', 'b', 'c'].map((jti) => receiver.isRevoked(token(jti))), [false, true, true]);
    now += 10_001;
    assert.equal(receiver.isRevoked(token('c')), false);
  });
});
