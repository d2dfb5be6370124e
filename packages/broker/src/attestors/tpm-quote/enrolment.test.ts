import assert from 'node:assert/strict';
import { randomBytes, X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { AttestationKeyRepository } from '../../ports/attestation-keys.ts';
import { evidenceAudience, evidenceExtraData } from '../../services/challenge.ts';
import { aHuman, anAgent } from '../../store/conformance/records.ts';
import { createSqliteAttestationKeys } from '../../store/sqlite/attestation-keys.ts';
import { createSqliteStore, type SqliteStore } from '../../store/sqlite/index.ts';
import { configSchema, create, createEnrolment, type EnrolmentRequest } from './index.ts';
import { objectName, readPublicArea } from './public-area.ts';
import { startSwtpm, type Swtpm, type SwtpmAk, type SwtpmEk } from './swtpm-harness.ts';

const dir = mkdtempSync(join(tmpdir(), 'mandate-tpm-enrol-'));
let now = Date.now();
const clock = { now: () => now };
let store: SqliteStore;
let repository: AttestationKeyRepository;
/** Two TPMs, each with its own EK certificate and local CA; the broker trusts only A's CA. */
let a: { tpm: Swtpm; ek: SwtpmEk; ak: SwtpmAk };
let b: { tpm: Swtpm; ek: SwtpmEk; ak: SwtpmAk };

async function tpmWithKeys(): Promise<{ tpm: Swtpm; ek: SwtpmEk; ak: SwtpmAk }> {
  const tpm = await startSwtpm();
  const ek = await tpm.createEk();
  return { tpm, ek, ak: await tpm.createAk(ek) };
}

before(async () => {
  [a, b] = [await tpmWithKeys(), await tpmWithKeys()];
  now = Date.now(); // after the EK certificates were issued
  store = await createSqliteStore({ path: join(dir, 'enrol.db') });
  repository = createSqliteAttestationKeys(store.raw.db);
  await store.humans.insert(aHuman(1));
  for (const n of [1, 2, 3, 4]) await store.agents.insert(anAgent(n, ['usr_1']));
});
after(async () => {
  await Promise.all([a?.tpm.stop(), b?.tpm.stop(), store?.close()]);
  rmSync(dir, { recursive: true, force: true });
});

const config = () => configSchema.parse({ ekCaFile: a.tpm.caFile, enrolmentTtl: '2m' });
const enrolment = () => createEnrolment(config(), { repository, clock });
const b64 = (bytes: Buffer) => bytes.toString('base64');
const request = (agentId: string, ak: SwtpmAk, ek: SwtpmEk, overrides: Partial<EnrolmentRequest> = {}): EnrolmentRequest => ({
  agentId, akPublic: b64(ak.publicArea), ekPublic: b64(ek.publicArea), ekCertificate: b64(ek.certificate), ...overrides,
});

/** The AK's TPM2B_PUBLIC with its TPMA_OBJECT (bytes 6–9: after size, type and nameAlg) changed. */
function withAttributes(ak: SwtpmAk, change: (attributes: number) => number): string {
  const bytes = Buffer.from(ak.publicArea);
  bytes.writeUInt32BE(change(bytes.readUInt32BE(6)) >>> 0, 6);
  return b64(bytes);
}

const rejects = (promise: Promise<unknown>, code: string) =>
  assert.rejects(promise, (e: { code?: string }) => e.code === code || assert.fail(`expected ${code}, got ${e.code}: ${String(e)}`));

describe('enrolment by credential activation, on swtpm', () => {
  test('an AK enrolled through tpm2_activatecredential is stored and then verifies a fresh quote', async () => {
    const { challenge, pending } = await enrolment().begin(request('agt_1', a.ak, a.ek));
    assert.equal(challenge.akName, a.ak.name.toString('hex'));
    assert.ok(!JSON.stringify(pending).includes(challenge.credential), 'the pending state holds no credential');
    const secret = await a.tpm.activateCredential(a.ak, a.ek, Buffer.from(challenge.credential, 'base64'));
    const record = await enrolment().complete(pending, b64(secret));
    assert.deepEqual(await repository.listForAgent('agt_1'), [record]);
    assert.match(record.ekCertificateDigest, /^sha256:[0-9a-f]{64}$/);

    const attestor = create(config(), { replay: store.replay, clock, attestationKeys: { get: (id) => repository.listForAgent(id) } });
    const nonce = randomBytes(40).toString('base64url');
    const jkt = randomBytes(32).toString('base64url');
    const q = await a.tpm.quote(a.ak, evidenceExtraData(nonce, jkt));
    const evidence = { quote: b64(q.quote), signature: b64(q.signature), pcrs: { sha256: q.pcrs } };
    const result = await attestor.verify(evidence, { nonce, jkt, agentId: 'agt_1', now, expectedAudience: evidenceAudience(nonce, jkt) });
    assert.equal(result.status, 'affirming');
    assert.equal(result.claims.akName, record.akName);
  });

  test('a quote by the AK of another TPM is not accepted for the enrolled agent (ERR_TPM_QUOTE_SIGNATURE)', async () => {
    const attestor = create(config(), { replay: store.replay, clock, attestationKeys: { get: (id) => repository.listForAgent(id) } });
    const nonce = randomBytes(40).toString('base64url');
    const jkt = randomBytes(32).toString('base64url');
    const q = await b.tpm.quote(b.ak, evidenceExtraData(nonce, jkt));
    const evidence = { quote: b64(q.quote), signature: b64(q.signature), pcrs: { sha256: q.pcrs } };
    await rejects(attestor.verify(evidence, { nonce, jkt, agentId: 'agt_1', now, expectedAudience: evidenceAudience(nonce, jkt) }), 'ERR_TPM_QUOTE_SIGNATURE');
  });

  test('the AK of another TPM presented with this TPM\'s EK certificate cannot be activated (ERR_TPM_QUOTE_ENROLMENT_SECRET)', async () => {
    const { challenge, pending } = await enrolment().begin(request('agt_2', b.ak, a.ek));
    const credential = Buffer.from(challenge.credential, 'base64');
    // TPM B holds the AK but not A's EK private key; A holds the EK but cannot load B's AK.
    await assert.rejects(b.tpm.activateCredential(b.ak, b.ek, credential));
    await rejects(enrolment().complete(pending, b64(randomBytes(32))), 'ERR_TPM_QUOTE_ENROLMENT_SECRET');
    assert.deepEqual(await repository.listForAgent('agt_2'), []);
  });

  test('an AK that is already enrolled for the agent (ERR_TPM_QUOTE_AK_ENROLLED)', async () => {
    await rejects(enrolment().begin(request('agt_1', a.ak, a.ek)), 'ERR_TPM_QUOTE_AK_ENROLLED');
  });

  test('an answer after the enrolment TTL (ERR_TPM_QUOTE_ENROLMENT_EXPIRED)', async () => {
    const { challenge, pending } = await enrolment().begin(request('agt_3', a.ak, a.ek));
    const secret = await a.tpm.activateCredential(a.ak, a.ek, Buffer.from(challenge.credential, 'base64'));
    now += 121_000;
    try {
      await rejects(enrolment().complete(pending, b64(secret)), 'ERR_TPM_QUOTE_ENROLMENT_EXPIRED');
    } finally {
      now -= 121_000;
    }
  });

  test('the AK name computed in TypeScript is the TPM\'s, from TPM2B_PUBLIC and from tpm2_readpublic -f tpmt', async () => {
    const tpmt = await a.tpm.readPublic(a.ak.context, 'tpmt');
    assert.deepEqual(objectName(readPublicArea(tpmt)), a.ak.name);
    assert.deepEqual(objectName(readPublicArea(a.ak.publicArea)), a.ak.name);
  });
});

describe('AK refusals, one per attribute', () => {
  const refuses = (akPublic: string, code: string) => rejects(enrolment().begin(request('agt_4', a.ak, a.ek, { akPublic })), code);
  test('an AK that does not parse (ERR_TPM_QUOTE_AK_MALFORMED)', () => refuses(b64(a.ak.publicArea.subarray(0, 40)), 'ERR_TPM_QUOTE_AK_MALFORMED'));
  test('an AK without restricted (ERR_TPM_QUOTE_AK_NOT_RESTRICTED)', () => refuses(withAttributes(a.ak, (x) => x & ~(1 << 16)), 'ERR_TPM_QUOTE_AK_NOT_RESTRICTED'));
  test('an AK without sign (ERR_TPM_QUOTE_AK_NOT_SIGNING)', () => refuses(withAttributes(a.ak, (x) => x & ~(1 << 18)), 'ERR_TPM_QUOTE_AK_NOT_SIGNING'));
  test('an AK without fixedTPM (ERR_TPM_QUOTE_AK_NOT_FIXED_TPM)', () => refuses(withAttributes(a.ak, (x) => x & ~(1 << 1)), 'ERR_TPM_QUOTE_AK_NOT_FIXED_TPM'));
  test('an AK without fixedParent (ERR_TPM_QUOTE_AK_NOT_FIXED_PARENT)', () => refuses(withAttributes(a.ak, (x) => x & ~(1 << 4)), 'ERR_TPM_QUOTE_AK_NOT_FIXED_PARENT'));
  test('an imported AK, without sensitiveDataOrigin (ERR_TPM_QUOTE_AK_NOT_TPM_GENERATED)', () => refuses(withAttributes(a.ak, (x) => x & ~(1 << 5)), 'ERR_TPM_QUOTE_AK_NOT_TPM_GENERATED'));
  test('an AK with decrypt set (ERR_TPM_QUOTE_AK_DECRYPT)', () => refuses(withAttributes(a.ak, (x) => x | (1 << 17)), 'ERR_TPM_QUOTE_AK_DECRYPT'));
  test('an AK on another curve (ERR_TPM_QUOTE_AK_ALGORITHM)', () => {
    const bytes = Buffer.from(a.ak.publicArea);
    bytes.writeUInt16BE(0x0004, 18); // curveID after size, type, nameAlg, attributes, authPolicy, symmetric, scheme: NIST P-384
    return refuses(b64(bytes), 'ERR_TPM_QUOTE_AK_ALGORITHM');
  });
});

describe('EK refusals', () => {
  test('an EK certificate that is not X.509 (ERR_TPM_QUOTE_EK_MALFORMED)', () =>
    rejects(enrolment().begin(request('agt_4', a.ak, a.ek, { ekCertificate: b64(randomBytes(64)) })), 'ERR_TPM_QUOTE_EK_MALFORMED'));

  test('an ECC key presented as the EK (ERR_TPM_QUOTE_EK_UNSUPPORTED)', () =>
    rejects(enrolment().begin(request('agt_4', a.ak, a.ek, { ekPublic: b64(a.ak.publicArea) })), 'ERR_TPM_QUOTE_EK_UNSUPPORTED'));

  test('the EK certificate of a TPM whose CA is not configured (ERR_TPM_QUOTE_EK_CERT_UNTRUSTED)', () =>
    rejects(enrolment().begin(request('agt_4', b.ak, b.ek)), 'ERR_TPM_QUOTE_EK_CERT_UNTRUSTED'));

  test('an EK certificate before its validity period (ERR_TPM_QUOTE_EK_CERT_EXPIRED)', async () => {
    const saved = now;
    now = Date.parse(new X509Certificate(a.ek.certificate).validFrom) - 86_400_000;
    try {
      await rejects(enrolment().begin(request('agt_4', a.ak, a.ek)), 'ERR_TPM_QUOTE_EK_CERT_EXPIRED');
    } finally {
      now = saved;
    }
  });

  test('a trusted EK certificate with another TPM\'s EK (ERR_TPM_QUOTE_EK_MISMATCH)', () =>
    rejects(enrolment().begin(request('agt_4', b.ak, b.ek, { ekCertificate: b64(a.ek.certificate) })), 'ERR_TPM_QUOTE_EK_MISMATCH'));

  test('enrolment cannot be set up without ekCaFile', () => {
    assert.throws(() => createEnrolment(configSchema.parse({}), { repository, clock }), /ekCaFile/);
  });
});
