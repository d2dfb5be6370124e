/**
 * Multi-attestation end to end, with real evidence made locally: a real swtpm (EK certificate from
 * its own CA, AK enrolled over HTTP by credential activation, quotes over an IMA-style log in
 * PCR 10), Sigstore provenance from a mock CA and timestamp authority, and a Kubernetes cluster
 * signer with its own keys. The policy requires sigstore AND tpm-quote AND k8s-sa-token AND
 * code-digest, with the signed subject, the measured digest and the agent's claim all equal.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { decodeJwt } from 'jose';
import { OAuthResponseError, type AgentClient, type EvidenceProvider } from '@mandate/sdk';
import { obtainTpmQuote, type TpmEvent } from '@mandate/sdk/evidence';
import { ATTESTATION_CLAIM, CLIENT_ASSERTION_TYPE } from '@mandate/sdk/protocol';
import { createClusterSigner, type ClusterSigner } from '../src/attestors/k8s-sa-token/cluster-signer.ts';
import { GITHUB_ISSUER, startLocalSigstore, WORKFLOW, type LocalSigstore } from '../src/attestors/sigstore/local-sigstore.ts';
import { imaTemplateHash } from '../src/attestors/tpm-quote/event-log.ts';
import { startSwtpm, type Swtpm, type SwtpmAk, type SwtpmEk } from '../src/attestors/tpm-quote/swtpm-harness.ts';
import { API, assertOAuthError, startLoopFixture, type LoopAgent, type LoopFixture } from './support/loop-fixture.ts';

const CLUSTER = 'https://kubernetes.default.svc.cluster.local';
const AGENT_FILE = '/opt/agent/agent.js';
const digestOf = (text: string) => `sha256:${createHash('sha256').update(text).digest('hex')}`;
const RELEASED = digestOf('agent release 1.4.2');
const PATCHED = digestOf('agent with a hot patch nobody built');

let fx: LoopFixture;
let dir: string;
let tpm: Swtpm;
let ek: SwtpmEk;
let ak: SwtpmAk;
let cluster: ClusterSigner;
let sigstore: LocalSigstore;
const eventLog: TpmEvent[] = [];

/** Extends PCR 10 with one IMA `ima-ng` event and records it in the log, as the kernel does. */
async function measure(fileDigest: string, name = AGENT_FILE): Promise<void> {
  const event: TpmEvent = { pcr: 10, template: 'ima-ng', fileDigest, name };
  await tpm.pcrExtend(10, imaTemplateHash(event));
  eventLog.push(event);
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'mandate-multi-'));
  tpm = await startSwtpm();
  ek = await tpm.createEk();
  ak = await tpm.createAk(ek);
  cluster = await createClusterSigner(CLUSTER);
  sigstore = await startLocalSigstore();
  writeFileSync(join(dir, 'cluster-jwks.json'), JSON.stringify(cluster.jwks));
  writeFileSync(join(dir, 'trusted-root.json'), JSON.stringify(sigstore.trustedRoot));
  fx = await startLoopFixture({
    config: {
      attestation: {
        attestors: {
          'k8s-sa-token': { issuer: CLUSTER, jwksFile: join(dir, 'cluster-jwks.json'), namespaces: ['agents'] },
          sigstore: { trustedRootFile: join(dir, 'trusted-root.json'), identities: [{ san: WORKFLOW, issuer: GITHUB_ISSUER }], tlogThreshold: 0, ctlogThreshold: 0 },
          'tpm-quote': { ekCaFile: tpm.caFile, codeEventName: AGENT_FILE, allowedDigests: [RELEASED] },
        },
        policies: {
          strict: {
            freshness: '120s',
            anyOf: [{ allOf: [{ attestor: 'sigstore' }, { attestor: 'tpm-quote' }, { attestor: 'k8s-sa-token', claims: { serviceaccount: 'planner' } }, { attestor: 'code-digest' }] }],
            equal: [['sigstore.digest', 'tpm-quote.digest'], ['code-digest.digest', 'tpm-quote.digest']],
          },
        },
      },
    },
  });
});
after(async () => {
  await fx?.close();
  await tpm?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** The agent's evidence for one challenge: every piece bound to its nonce and DPoP key where the kind allows. */
function evidenceFor(claimedDigest: string): EvidenceProvider {
  return async ({ nonce, jkt, audience }) => [
    { attestor: 'k8s-sa-token', evidence: await cluster.sign({ audience }) },
    { attestor: 'sigstore', evidence: { bundle: await sigstore.signProvenance(RELEASED), artifactDigest: RELEASED } },
    { attestor: 'tpm-quote', evidence: await obtainTpmQuote({ tcti: tpm.tcti, akContext: ak.context, nonce, jkt, eventLog, flushTransient: true }) },
    { attestor: 'code-digest', evidence: { digest: claimedDigest } },
  ];
}

async function clientAuth(agent: LoopAgent) {
  return { client_id: agent.agent.id, client_assertion_type: CLIENT_ASSERTION_TYPE, client_assertion: await agent.assertion() };
}

/** Flips bits of the AK's objectAttributes (TPM2B_PUBLIC: size, type, nameAlg, then attributes). */
function withAttributes(publicArea: Buffer, change: (attributes: number) => number): string {
  const copy = Buffer.from(publicArea);
  copy.writeUInt32BE(change(copy.readUInt32BE(6)) >>> 0, 6);
  return copy.toString('base64');
}

describe('TPM attestation-key enrolment over HTTP', () => {
  let agent: LoopAgent;
  before(async () => {
    agent = await fx.addAgent({ policy: 'strict' });
  });

  const enrol = async (akPublic = ak.publicArea.toString('base64')) =>
    fx.postJson('/attest/tpm/enrol', { ...(await clientAuth(agent)), ak_public: akPublic, ek_public: ek.publicArea.toString('base64'), ek_certificate: ek.certificate.toString('base64') });
  const activate = async (enrolment: unknown, secret: string, who = agent) => fx.postJson('/attest/tpm/activate', { ...(await clientAuth(who)), enrolment, secret });

  test('an AK with decrypt set is refused at enrolment, and audited (ERR_TPM_QUOTE_AK_DECRYPT)', async () => {
    const response = await enrol(withAttributes(ak.publicArea, (x) => x | (1 << 17)));
    assertOAuthError(response, 'ERR_TPM_QUOTE_AK_DECRYPT', /decryption key/);
    const [event] = await fx.auditEvents(1);
    assert.deepEqual([event?.type, (event?.data as { reason?: string }).reason], ['attestation_key.rejected', 'ERR_TPM_QUOTE_AK_DECRYPT']);
  });

  test('an AK without restricted is refused at enrolment (ERR_TPM_QUOTE_AK_NOT_RESTRICTED)', async () => {
    assertOAuthError(await enrol(withAttributes(ak.publicArea, (x) => x & ~(1 << 16))), 'ERR_TPM_QUOTE_AK_NOT_RESTRICTED', /restricted/);
  });

  test('a forged enrolment is refused (ERR_KEY_ENROLMENT_INVALID)', async () => {
    const { body } = await enrol();
    const [payload, mac] = String(body.enrolment).split('.');
    const forged = JSON.parse(Buffer.from(payload!, 'base64url').toString());
    forged.akName = '000b' + '00'.repeat(32);
    const response = await activate(`${Buffer.from(JSON.stringify(forged)).toString('base64url')}.${mac}`, Buffer.alloc(32).toString('base64'));
    assertOAuthError(response, 'ERR_KEY_ENROLMENT_INVALID', 'the enrolment was not issued by this broker');
  });

  test("another agent's enrolment is refused (ERR_KEY_ENROLMENT_INVALID)", async () => {
    const { body } = await enrol();
    const response = await activate(body.enrolment, Buffer.alloc(32).toString('base64'), fx.agent);
    assertOAuthError(response, 'ERR_KEY_ENROLMENT_INVALID', 'the enrolment belongs to another agent');
  });

  test('the activated secret registers the AK; a second answer is refused (ERR_KEY_ENROLMENT_REPLAYED)', async () => {
    const { status, body } = await enrol();
    assert.equal(status, 200, JSON.stringify(body));
    assert.equal(body.ak_name, ak.name.toString('hex'));
    const secret = (await tpm.activateCredential(ak, ek, Buffer.from(String(body.credential), 'base64'))).toString('base64');
    const done = await activate(body.enrolment, secret);
    assert.deepEqual([done.status, done.body], [201, { ak_name: ak.name.toString('hex') }]);
    assert.deepEqual((await fx.app.store.attestationKeys.listForAgent(agent.agent.id)).map((k) => k.akName), [ak.name.toString('hex')]);
    const [event] = await fx.auditEvents(1);
    assert.equal(event?.type, 'attestation_key.registered');
    assertOAuthError(await activate(body.enrolment, secret), 'ERR_KEY_ENROLMENT_REPLAYED', /already answered/);
  });
});

describe('sigstore AND tpm-quote AND k8s-sa-token AND code-digest', () => {
  let agent: LoopAgent;
  let client: AgentClient;
  let mandateId: string;

  before(async () => {
    agent = await fx.addAgent({ policy: 'strict' });
    const { body } = await fx.postJson('/attest/tpm/enrol', {
      ...(await clientAuth(agent)), ak_public: ak.publicArea.toString('base64'), ek_public: ek.publicArea.toString('base64'), ek_certificate: ek.certificate.toString('base64'),
    });
    const secret = await tpm.activateCredential(ak, ek, Buffer.from(String(body.credential), 'base64'));
    assert.equal((await fx.postJson('/attest/tpm/activate', { ...(await clientAuth(agent)), enrolment: body.enrolment, secret: secret.toString('base64') })).status, 201);
    await measure(RELEASED);
    client = agent.client({ evidence: evidenceFor(RELEASED) });
  });

  test('the released build, measured by the TPM and signed by its workflow, gets a token naming every attestor', async () => {
    const attested = await client.attest();
    assert.equal(attested.verdict, 'affirming');
    assert.deepEqual(attested.attestors, {
      sigstore: { status: 'affirming' }, 'tpm-quote': { status: 'affirming' }, 'k8s-sa-token': { status: 'affirming' }, 'code-digest': { status: 'affirming' },
    });
    const { authReqId } = await client.ask({
      loginHint: fx.alice.id, bindingMessage: 'Nightly triage', attestation: attested,
      task: { purpose: 'Nightly triage', audience: API, actions: ['read'], notAfter: Math.floor(fx.clock.now() / 1000) + 3600 },
    });
    mandateId = await fx.pendingMandateOf(agent.agent.id);
    assert.equal((await fx.adminApi('POST', `/admin/v1/mandates/${mandateId}/approve`, fx.secrets.alice)).status, 200);
    const { accessToken } = await client.waitForApproval(authReqId, { interval: 0.05, timeoutMs: 10_000 });
    const summary = decodeJwt(accessToken)[ATTESTATION_CLAIM] as { status: string; attestors: Record<string, { status: string }> };
    assert.equal(summary.status, 'affirming');
    assert.deepEqual(Object.keys(summary.attestors).sort(), ['code-digest', 'k8s-sa-token', 'sigstore', 'tpm-quote']);
    const renewed = await client.mint({ resource: API });
    assert.ok(renewed.accessToken);
  });

  test('the code changes (a new event in PCR 10): re-attestation is contraindicated, the mandate suspended, owners notified, renewal refused', async () => {
    await measure(PATCHED);
    const stale = client;
    const patched = agent.client({ evidence: evidenceFor(PATCHED) });
    await assert.rejects(patched.attest(), (error: unknown) => {
      assert.ok(error instanceof OAuthResponseError, String(error));
      assert.deepEqual([error.status, error.oauthError, error.message], [400, 'invalid_request', 'invalid_request: an attestor reported contraindicated evidence']);
      return true;
    });
    const [rejected] = (await fx.auditEvents(10)).filter((e) => e.type === 'attestation.rejected' && e.actor === agent.agent.id);
    assert.ok(rejected, 'the contraindicated attestation is audited');
    const shown = await fx.adminApi('GET', `/admin/v1/mandates/${mandateId}`, fx.secrets.alice);
    assert.equal(shown.body.status, 'suspended');
    const inboxes = await Promise.all([fx.alice.id, fx.bob.id].map((id) => fx.app.store.notifications.listForRecipient(id, { limit: 100 })));
    const notified = inboxes.flat().filter((n) => n.kind === 'attestation.contraindicated' && n.payload.agent_id === agent.agent.id);
    assert.deepEqual(notified.map((n) => n.recipient).sort(), [fx.alice.id]);
    // Renewal re-attests with the agent's current evidence: refused, and the mandate stays suspended.
    await assert.rejects(stale.mint({ resource: API }), (error: unknown) => error instanceof OAuthResponseError && error.status === 400 && /contraindicated/.test(error.message));
    assert.equal((await fx.adminApi('GET', `/admin/v1/mandates/${mandateId}`, fx.secrets.alice)).body.status, 'suspended');
  });
});
