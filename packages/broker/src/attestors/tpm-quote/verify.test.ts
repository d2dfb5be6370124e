import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { AttestationKeyRecord } from '../../ports/attestation-keys.ts';
import type { EvidenceBinding } from '../../ports/attestor.ts';
import { evidenceAudience, evidenceExtraData } from '../../services/challenge.ts';
import { digestEvidence } from '../evidence-digest.ts';
import { imaTemplateHash, type ImaEvent } from './event-log.ts';
import { configSchema, create } from './index.ts';
import { objectName, readPublicArea } from './public-area.ts';
import { createSoftwareAk } from './software-ak.ts';
import { startSwtpm, type Swtpm, type SwtpmAk, type SwtpmQuote } from './swtpm-harness.ts';

const AGENT = 'agt_TPMQUOTE0000000000001';
const SOFTWARE_AGENT = 'agt_TPMQUOTE0000000000002';
const CODE = '/usr/bin/agent';
const software = createSoftwareAk();
const keys = new Map<string, AttestationKeyRecord[]>([[SOFTWARE_AGENT, [software.record(SOFTWARE_AGENT)]]]);
const log: ImaEvent[] = [];
let tpm: Swtpm;
let ak: SwtpmAk;

before(async () => {
  tpm = await startSwtpm();
  ak = await tpm.createAk(await tpm.createEk());
  const area = readPublicArea(ak.publicArea);
  keys.set(AGENT, [{ agentId: AGENT, akName: objectName(area).toString('hex'), akPublic: area.bytes.toString('base64'), ekCertificateDigest: `sha256:${'0'.repeat(64)}`, createdAt: 0 }]);
  await measure('boot_aggregate', 'boot');
  await measure(CODE, 'agent v1');
});
after(() => tpm?.stop());

/** Appends an IMA event to the log and extends PCR 10 with its template hash, as the kernel would. */
async function measure(name: string, contents: string): Promise<ImaEvent> {
  const event: ImaEvent = { pcr: 10, template: 'ima-ng', fileDigest: sha256Digest(contents), name };
  log.push(event);
  await tpm.pcrExtend(10, imaTemplateHash(event));
  return event;
}

const sha256Digest = (text: string) => `sha256:${createHash('sha256').update(text).digest('hex')}`;
const clock = { now: () => Date.now() };
const replay = { checkAndInsert: async () => true, seen: async () => false, purgeExpired: async () => 0 };
const attestor = (config: Record<string, unknown> = {}) =>
  create(configSchema.parse(config), { replay, clock, attestationKeys: { get: async (agentId) => keys.get(agentId) ?? [] } });

function binding(agentId = AGENT): EvidenceBinding {
  const nonce = randomBytes(40).toString('base64url');
  const jkt = randomBytes(32).toString('base64url');
  return { nonce, jkt, agentId, now: Date.now(), expectedAudience: evidenceAudience(nonce, jkt) };
}

const quoteFor = (b: EvidenceBinding, selection?: string) => tpm.quote(ak, evidenceExtraData(b.nonce, b.jkt), selection);
const asEvidence = (q: Pick<SwtpmQuote, 'quote' | 'signature'> & { pcrs: Record<string, string> }, eventLog?: ImaEvent[]) => ({
  quote: q.quote.toString('base64'),
  signature: q.signature.toString('base64'),
  pcrs: { sha256: q.pcrs },
  ...(eventLog && { eventLog: [...eventLog] }),
});

const rejects = (promise: Promise<unknown>, code: string, reason?: string) =>
  assert.rejects(promise, (e: { code?: string; details?: { reason?: string } }) => {
    if (e.code !== code) assert.fail(`expected ${code}, got ${e.code}: ${String(e)}`);
    if (reason !== undefined) assert.equal(e.details?.reason, reason);
    return true;
  });

describe('accepted quotes', () => {
  test('a fresh quote by the enrolled AK, with an event log that replays, affirms and emits the measured digest', async () => {
    const b = binding();
    const q = await quoteFor(b);
    const evidence = asEvidence(q, log);
    const result = await attestor({ pcrs: { '10': [q.pcrs['10']] }, codeEventName: CODE, allowedDigests: [sha256Digest('agent v1')] }).verify(evidence, b);
    assert.equal(result.status, 'affirming');
    assert.equal(result.claims.digest, sha256Digest('agent v1'));
    assert.equal(result.claims.pcr10, q.pcrs['10']);
    assert.equal(result.claims.akName, ak.name.toString('hex'));
    assert.equal(result.claims.contraindications, undefined);
    assert.deepEqual(result.measured, ['pcr10', 'pcr16', 'digest']);
    assert.match(String(result.claims.firmware), /^[0-9a-f]{16}$/);
    assert.equal(typeof result.claims.clock, 'number');
    assert.equal(result.evidenceDigest, digestEvidence(evidence));
  });

  test('a quote without an event log affirms without a digest claim', async () => {
    const b = binding();
    const result = await attestor({ codeEventName: CODE }).verify(asEvidence(await quoteFor(b)), b);
    assert.equal(result.status, 'affirming');
    assert.equal(result.claims.digest, undefined);
  });

  test('after PCR 10 is extended with a new binary, the pinned PCR and the allowed digest are contraindicated (PROTOCOL §3)', async () => {
    const before = await tpm.pcrRead('sha256:10');
    const config = { pcrs: { '10': [before['10']] }, codeEventName: CODE, allowedDigests: [sha256Digest('agent v1')] };
    await measure(CODE, 'agent v2 (unreviewed)');
    const b = binding();
    const result = await attestor(config).verify(asEvidence(await quoteFor(b), log), b);
    assert.equal(result.status, 'contraindicated');
    assert.equal(result.claims.digest, sha256Digest('agent v2 (unreviewed)'));
    assert.deepEqual(result.claims.contraindications, ['pcr10-not-allowed', 'digest-not-allowed']);
  });

  test('a pinned PCR the quote leaves out, and a digest that was not measured, are contraindicated', async () => {
    const b = binding();
    const result = await attestor({ pcrs: { '7': ['0'.repeat(64)] }, codeEventName: CODE, allowedDigests: [sha256Digest('agent v1')] }).verify(asEvidence(await quoteFor(b)), b);
    assert.equal(result.status, 'contraindicated');
    assert.deepEqual(result.claims.contraindications, ['pcr7-not-quoted', 'digest-not-measured']);
  });
});

describe('rejections, one per check', () => {
  test('evidence that is not an object (ERR_TPM_QUOTE_MALFORMED)', async () => {
    await rejects(attestor().verify('quote', binding()), 'ERR_TPM_QUOTE_MALFORMED', 'shape');
  });

  test('an unknown member (ERR_TPM_QUOTE_MALFORMED)', async () => {
    const b = binding();
    await rejects(attestor().verify({ ...asEvidence(await quoteFor(b)), akName: 'x' }, b), 'ERR_TPM_QUOTE_MALFORMED', 'members');
  });

  test('a quote that is not canonical base64 (ERR_TPM_QUOTE_MALFORMED)', async () => {
    const b = binding();
    await rejects(attestor().verify({ ...asEvidence(await quoteFor(b)), quote: '/w==\n' }, b), 'ERR_TPM_QUOTE_MALFORMED', 'quote');
  });

  test('a signature that is not an ECDSA TPMT_SIGNATURE (ERR_TPM_QUOTE_MALFORMED)', async () => {
    const b = binding();
    const q = await quoteFor(b);
    await rejects(attestor().verify({ ...asEvidence(q), signature: Buffer.concat([Buffer.from([0, 0x14]), q.signature.subarray(2)]).toString('base64') }, b), 'ERR_TPM_QUOTE_MALFORMED', 'signature');
  });

  test('PCRs of a bank other than sha256 (ERR_TPM_QUOTE_MALFORMED)', async () => {
    const b = binding();
    const q = await quoteFor(b);
    await rejects(attestor().verify({ ...asEvidence(q), pcrs: { sha1: { '10': '00'.repeat(20) } } }, b), 'ERR_TPM_QUOTE_MALFORMED', 'pcrs');
  });

  test('an event-log entry that is not an ima-ng event of PCR 10 (ERR_TPM_QUOTE_MALFORMED)', async () => {
    const b = binding();
    await rejects(attestor().verify(asEvidence(await quoteFor(b), [{ ...log[0]!, pcr: 11 as 10 }]), b), 'ERR_TPM_QUOTE_MALFORMED', 'eventLog');
  });

  test('a well-signed TPMS_ATTEST whose body does not parse (ERR_TPM_QUOTE_MALFORMED)', async () => {
    const b = binding(SOFTWARE_AGENT);
    const q = software.quote(evidenceExtraData(b.nonce, b.jkt), { '10': '00'.repeat(32) }, (attest) => Buffer.concat([attest, Buffer.from([0])]));
    await rejects(attestor().verify(asEvidence({ ...q, pcrs: { '10': '00'.repeat(32) } }), b), 'ERR_TPM_QUOTE_MALFORMED', 'quote');
  });

  test('an agent without an enrolled AK (ERR_TPM_QUOTE_UNKNOWN_AK)', async () => {
    const b = binding('agt_TPMQUOTE0000000000404');
    await rejects(attestor().verify(asEvidence(await quoteFor(b)), b), 'ERR_TPM_QUOTE_UNKNOWN_AK');
  });

  test('a tampered signature (ERR_TPM_QUOTE_SIGNATURE)', async () => {
    const b = binding();
    const q = await quoteFor(b);
    const signature = Buffer.from(q.signature);
    signature[10]! ^= 0x01;
    await rejects(attestor().verify(asEvidence({ ...q, signature }), b), 'ERR_TPM_QUOTE_SIGNATURE');
  });

  test('a quote body altered after signing (ERR_TPM_QUOTE_SIGNATURE)', async () => {
    const b = binding();
    const q = await quoteFor(b);
    const quote = Buffer.from(q.quote);
    quote[quote.length - 1]! ^= 0x01;
    await rejects(attestor().verify(asEvidence({ ...q, quote }), b), 'ERR_TPM_QUOTE_SIGNATURE');
  });

  test('a quote signed by an AK enrolled for another agent (ERR_TPM_QUOTE_SIGNATURE)', async () => {
    const b = binding(SOFTWARE_AGENT);
    await rejects(attestor().verify(asEvidence(await quoteFor(b)), b), 'ERR_TPM_QUOTE_SIGNATURE');
  });

  test('data that the TPM did not generate, signed by the AK through a hash ticket (ERR_TPM_QUOTE_MAGIC)', async () => {
    const b = binding();
    const q = await quoteFor(b);
    const forged = Buffer.from(q.quote);
    forged.writeUInt32BE(0x00544347, 0); // a restricted key signs external data only if it does not start with TPM_GENERATED_VALUE
    const signature = await tpm.signWithTicket(ak, forged);
    await rejects(attestor().verify(asEvidence({ quote: forged, signature, pcrs: q.pcrs }), b), 'ERR_TPM_QUOTE_MAGIC');
  });

  test('a TPM-made attestation that is not a quote, e.g. TPM2_GetTime (ERR_TPM_QUOTE_TYPE)', async () => {
    const b = binding();
    const q = await quoteFor(b);
    const { attest, signature } = await tpm.getTime(ak, evidenceExtraData(b.nonce, b.jkt));
    await rejects(attestor().verify(asEvidence({ quote: attest, signature, pcrs: q.pcrs }), b), 'ERR_TPM_QUOTE_TYPE');
  });

  test('a quote replayed from an earlier challenge (ERR_TPM_QUOTE_NONCE)', async () => {
    const old = binding();
    const q = await quoteFor(old);
    await attestor().verify(asEvidence(q), old);
    await rejects(attestor().verify(asEvidence(q), binding()), 'ERR_TPM_QUOTE_NONCE');
  });

  test('a quote for this nonce but another DPoP key (ERR_TPM_QUOTE_NONCE)', async () => {
    const b = binding();
    const q = await quoteFor(b);
    const other = { ...b, jkt: randomBytes(32).toString('base64url') };
    await rejects(attestor().verify(asEvidence(q), other), 'ERR_TPM_QUOTE_NONCE');
  });

  test('reported PCRs that leave out a quoted one (ERR_TPM_QUOTE_PCR_SELECTION)', async () => {
    const b = binding();
    const q = await quoteFor(b);
    await rejects(attestor().verify(asEvidence({ ...q, pcrs: { '10': q.pcrs['10']! } }), b), 'ERR_TPM_QUOTE_PCR_SELECTION');
  });

  test('a reported PCR value that differs from the quoted one (ERR_TPM_QUOTE_PCR_DIGEST)', async () => {
    const b = binding();
    const q = await quoteFor(b);
    await rejects(attestor().verify(asEvidence({ ...q, pcrs: { ...q.pcrs, '16': 'ab'.repeat(32) } }), b), 'ERR_TPM_QUOTE_PCR_DIGEST');
  });

  test('an event log with its last measurement left out (ERR_TPM_QUOTE_EVENT_LOG)', async () => {
    const b = binding();
    await rejects(attestor({ codeEventName: CODE }).verify(asEvidence(await quoteFor(b), log.slice(0, -1)), b), 'ERR_TPM_QUOTE_EVENT_LOG');
  });

  test('an event log with a quote that does not cover PCR 10 (ERR_TPM_QUOTE_EVENT_LOG)', async () => {
    const b = binding();
    await rejects(attestor().verify(asEvidence(await quoteFor(b, 'sha256:16'), log), b), 'ERR_TPM_QUOTE_EVENT_LOG');
  });
});

describe('config', () => {
  test('pinning PCR 16, which any process can reset, needs allowResettablePcrs', () => {
    assert.throws(() => configSchema.parse({ pcrs: { '16': ['00'.repeat(32)] } }), /reset by any process/);
    assert.doesNotThrow(() => configSchema.parse({ pcrs: { '16': ['00'.repeat(32)] }, allowResettablePcrs: true }));
  });

  test('allowedDigests needs codeEventName, and PCR values must be SHA-256 hex', () => {
    assert.throws(() => configSchema.parse({ allowedDigests: [sha256Digest('x')] }), /needs codeEventName/);
    assert.throws(() => configSchema.parse({ pcrs: { '10': ['00'.repeat(20)] } }), /64 hex/);
  });

  test('the attestor cannot be built without the registered attestation keys', () => {
    assert.throws(() => create(configSchema.parse({}), { replay, clock }), /attestationKeys/);
  });
});
