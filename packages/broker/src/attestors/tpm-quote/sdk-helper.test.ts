import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
// Test-only: the broker's swtpm harness and verifier check the evidence this helper produces.
import { imaTemplateHash } from './event-log.ts';
import { configSchema, create, createEnrolment } from './index.ts';
import { startSwtpm, type Swtpm, type SwtpmAk, type SwtpmEk } from './swtpm-harness.ts';
import type { AttestationKeyRecord } from '../../ports/attestation-keys.ts';
import { evidenceAudience } from '@mandate/sdk';
import { activateCredential, obtainTpmQuote, readImaEventLog } from '@mandate/sdk/evidence';

let tpm: Swtpm;
let ek: SwtpmEk;
let ak: SwtpmAk;
const records: AttestationKeyRecord[] = [];
const repository = { add: async (r: AttestationKeyRecord) => void records.push(r), listForAgent: async (id: string) => records.filter((r) => r.agentId === id), remove: async () => false };
const clock = { now: () => Date.now() };

before(async () => {
  tpm = await startSwtpm();
  ek = await tpm.createEk();
  ak = await tpm.createAk(ek);
});
after(() => tpm?.stop());

test('activateCredential answers the broker\'s enrolment challenge', async () => {
  const enrolment = createEnrolment(configSchema.parse({ ekCaFile: tpm.caFile }), { repository, clock });
  const { challenge, pending } = await enrolment.begin({ agentId: 'agt_sdk', akPublic: ak.publicArea.toString('base64'), ekPublic: ek.publicArea.toString('base64'), ekCertificate: ek.certificate.toString('base64') });
  const answer = await activateCredential({ tcti: tpm.tcti, akContext: ak.context, ekContext: ek.context, credential: challenge.credential, flushTransient: true });
  assert.equal((await enrolment.complete(pending, answer)).akName, ak.name.toString('hex'));
});

test('obtainTpmQuote returns evidence the broker verifies, with the IMA log read from ascii form', async () => {
  const fileDigest = `sha256:${createHash('sha256').update('agent').digest('hex')}`;
  const templateHash = imaTemplateHash({ pcr: 10, template: 'ima-ng', fileDigest, name: '/usr/bin/agent' });
  await tpm.pcrExtend(10, templateHash);
  const eventLog = readImaEventLog(`10 ${templateHash.toString('hex')} ima-ng ${fileDigest} /usr/bin/agent\n`);
  const nonce = randomBytes(40).toString('base64url');
  const jkt = randomBytes(32).toString('base64url');
  const evidence = await obtainTpmQuote({ tcti: tpm.tcti, akContext: ak.context, nonce, jkt, eventLog, flushTransient: true });
  assert.deepEqual(Object.keys(evidence.pcrs.sha256), ['10']);
  const attestor = create(configSchema.parse({ codeEventName: '/usr/bin/agent', allowedDigests: [fileDigest] }), { replay: { checkAndInsert: async () => true, seen: async () => false, purgeExpired: async () => 0 }, clock, attestationKeys: { get: repository.listForAgent } });
  const result = await attestor.verify(evidence, { nonce, jkt, agentId: 'agt_sdk', now: Date.now(), expectedAudience: await evidenceAudience(nonce, jkt) });
  assert.equal(result.status, 'affirming');
  assert.equal(result.claims.digest, fileDigest);
});

test('a PCR selection outside the SHA-256 bank is refused before tpm2_quote runs', async () => {
  await assert.rejects(obtainTpmQuote({ akContext: ak.context, nonce: 'n', jkt: 'k', pcrs: 'sha1:10' }), { code: 'ERR_SDK_CONFIGURATION' });
});

test('an IMA log line that is not ima-ng of PCR 10 is refused', () => {
  assert.throws(() => readImaEventLog(`11 ${'0'.repeat(64)} ima-ng sha256:${'0'.repeat(64)} /x\n`), { code: 'ERR_SDK_CONFIGURATION' });
});

test('a failing tpm2 command surfaces its error', async () => {
  await assert.rejects(activateCredential({ tcti: tpm.tcti, akContext: ak.context, ekContext: ek.context, credential: randomBytes(40).toString('base64'), flushTransient: true }), /tpm2_activatecredential failed/);
});
