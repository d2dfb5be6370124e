import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createKeyService, type KeyService } from '../keys/key-service.ts';
import { createSqliteStore, type SqliteStore } from '../store/sqlite/index.ts';
import { createAttestationResultVerifier, signAttestationResult, type AttestationResultClaims } from './attestation-result.ts';

const ISSUER = 'http://localhost:7420';
const AGENT = 'agt_AAAAAAAAAAAAAAAAAAAAAA';
const JKT = 'jkt-of-the-dpop-key';
const dir = mkdtempSync(join(tmpdir(), 'mandate-result-'));
const now = 1_700_000_000_000;
const iat = now / 1000;
const clock = { now: () => now };
const stores: SqliteStore[] = [];
let keys: KeyService;
let otherBroker: KeyService;

async function keyService(name: string): Promise<KeyService> {
  const store = await createSqliteStore({ path: join(dir, `${name}.db`) });
  stores.push(store);
  const service = createKeyService({ store: store.keys, clock, activationDelay: 0, overlap: 3_600_000 });
  await service.ensureKey();
  return service;
}

before(async () => {
  keys = await keyService('broker');
  otherBroker = await keyService('other');
});
after(async () => {
  await Promise.all(stores.map((s) => s.close()));
  rmSync(dir, { recursive: true, force: true });
});

const claims = (overrides: Record<string, unknown> = {}) => ({
  iss: ISSUER, sub: AGENT, aud: ISSUER, jti: 'att_BBBBBBBBBBBBBBBBBBBBBB', cnf: { jkt: JKT }, iat, exp: iat + 600,
  verdict: 'affirming', policy: 'ci', evidence_digest: 'ab'.repeat(32),
  attestors: { 'oidc-token': { status: 'affirming', claims: { repository_id: '731337001' } } },
  ...overrides,
});
const sign = (c: Record<string, unknown>, signer: KeyService = keys, typ = 'attestation-result+jwt') => signer.sign({ typ }, c);
const verify = (jwt: string, expected: { agentId?: string; jkt?: string } = {}) =>
  createAttestationResultVerifier({ keys, issuer: ISSUER, clock })(jwt, { agentId: AGENT, jkt: JKT, ...expected });
const rejects = (promise: Promise<unknown>, code: string) =>
  assert.rejects(promise, (e: { code?: string }) => e.code === code || assert.fail(`expected ${code}, got ${e.code}: ${String(e)}`));

describe('verifyAttestationResult', () => {
  test('a result the broker signed for this agent and key', async () => {
    const jwt = signAttestationResult(keys, claims() as unknown as AttestationResultClaims);
    assert.deepEqual(await verify(jwt), {
      id: 'att_BBBBBBBBBBBBBBBBBBBBBB', verdict: 'affirming', policy: 'ci', iat, exp: iat + 600, evidenceDigest: 'ab'.repeat(32),
      attestors: { 'oidc-token': { status: 'affirming', claims: { repository_id: '731337001' } } },
    });
  });

  test('not a compact JWS → ERR_ATTESTATION_INVALID', () => rejects(verify('not-a-jwt'), 'ERR_ATTESTATION_INVALID'));
  test('another typ (an access token) → ERR_ATTESTATION_TYP', () => rejects(verify(sign(claims(), keys, 'at+jwt')), 'ERR_ATTESTATION_TYP'));
  test('signed by another broker\'s key → ERR_ATTESTATION_SIGNATURE', () => rejects(verify(sign(claims(), otherBroker)), 'ERR_ATTESTATION_SIGNATURE'));

  test('claims altered after signing → ERR_ATTESTATION_SIGNATURE', async () => {
    const [h, , s] = sign(claims()).split('.') as [string, string, string];
    const forged = Buffer.from(JSON.stringify(claims({ verdict: 'affirming', exp: iat + 86_400 }))).toString('base64url');
    await rejects(verify(`${h}.${forged}.${s}`), 'ERR_ATTESTATION_SIGNATURE');
  });

  test('another issuer → ERR_ATTESTATION_ISSUER', () => rejects(verify(sign(claims({ iss: 'https://evil.example' }))), 'ERR_ATTESTATION_ISSUER'));
  test('another audience → ERR_ATTESTATION_ISSUER', () => rejects(verify(sign(claims({ aud: 'https://rs.example' }))), 'ERR_ATTESTATION_ISSUER'));
  test('issued to another agent → ERR_ATTESTATION_SUBJECT_MISMATCH', () => rejects(verify(sign(claims()), { agentId: 'agt_CCCCCCCCCCCCCCCCCCCCCC' }), 'ERR_ATTESTATION_SUBJECT_MISMATCH'));
  test('bound to another DPoP key → ERR_ATTESTATION_KEY_MISMATCH', () => rejects(verify(sign(claims()), { jkt: 'another-key' }), 'ERR_ATTESTATION_KEY_MISMATCH'));
  test('no evidence_digest → ERR_ATTESTATION_INVALID', () => rejects(verify(sign(claims({ evidence_digest: undefined }))), 'ERR_ATTESTATION_INVALID'));

  test('a contraindicated verdict → ERR_ATTESTATION_CONTRAINDICATED, naming the attestation', async () => {
    await assert.rejects(verify(sign(claims({ verdict: 'contraindicated' }))), (e: { code?: string; details?: Record<string, unknown> }) => {
      assert.equal(e.code, 'ERR_ATTESTATION_CONTRAINDICATED');
      assert.equal(e.details?.attestation_id, 'att_BBBBBBBBBBBBBBBBBBBBBB');
      return true;
    });
  });

  test('an unknown verdict → ERR_ATTESTATION_INVALID', () => rejects(verify(sign(claims({ verdict: 'rejected' }))), 'ERR_ATTESTATION_INVALID'));
  test('exp reached → ERR_ATTESTATION_STALE', () => rejects(verify(sign(claims({ exp: iat }))), 'ERR_ATTESTATION_STALE'));
});

describe('verified-signature cache', () => {
  test('a reused result is checked against the agent, key and freshness at every use', async () => {
    let at = now;
    const verifier = createAttestationResultVerifier({ keys, issuer: ISSUER, clock: { now: () => at } });
    const jwt = sign(claims());
    assert.equal((await verifier(jwt, { agentId: AGENT, jkt: JKT })).id, 'att_BBBBBBBBBBBBBBBBBBBBBB');
    await rejects(verifier(jwt, { agentId: 'agt_CCCCCCCCCCCCCCCCCCCCCC', jkt: JKT }), 'ERR_ATTESTATION_SUBJECT_MISMATCH');
    await rejects(verifier(jwt, { agentId: AGENT, jkt: 'another-key' }), 'ERR_ATTESTATION_KEY_MISMATCH');
    at = now + 600_000;
    await rejects(verifier(jwt, { agentId: AGENT, jkt: JKT }), 'ERR_ATTESTATION_STALE');
  });

  test('a cached result whose key is no longer a verification key is refused (ERR_ATTESTATION_SIGNATURE)', async () => {
    let retired = false;
    const rotating = { verificationKey: (kid: string) => (retired ? null : keys.verificationKey(kid)) };
    const verifier = createAttestationResultVerifier({ keys: rotating, issuer: ISSUER, clock });
    const jwt = sign(claims());
    assert.equal((await verifier(jwt, { agentId: AGENT, jkt: JKT })).verdict, 'affirming');
    retired = true;
    await rejects(verifier(jwt, { agentId: AGENT, jkt: JKT }), 'ERR_ATTESTATION_SIGNATURE');
  });

  test('a tampered copy of a cached result is not taken from the cache (ERR_ATTESTATION_SIGNATURE)', async () => {
    const verifier = createAttestationResultVerifier({ keys, issuer: ISSUER, clock });
    const jwt = sign(claims());
    await verifier(jwt, { agentId: AGENT, jkt: JKT });
    const [h, p, s] = jwt.split('.');
    const payload = JSON.parse(Buffer.from(p!, 'base64url').toString());
    const tampered = `${h}.${Buffer.from(JSON.stringify({ ...payload, sub: 'agt_CCCCCCCCCCCCCCCCCCCCCC' })).toString('base64url')}.${s}`;
    await rejects(verifier(tampered, { agentId: 'agt_CCCCCCCCCCCCCCCCCCCCCC', jkt: JKT }), 'ERR_ATTESTATION_SIGNATURE');
  });
});
