import { createAgentClient, OAuthResponseError } from '@mandate/sdk';
import type { Io } from './cli-output.ts';
import type { RichTrust } from './demo-rich.ts';
import type { DemoStage } from './demo-stage.ts';
import { describeError, expect, readResult, sayTo, type DemoState, type Step, type Wire } from './demo-steps.ts';

/** `sha256:` and the first 16 hex digits: enough to tell the builds apart on one line. */
const short = (digest: unknown) => `${String(digest).slice(0, 23)}…`;

/**
 * The rich demo's attestation: (with a TPM) the AK is enrolled, a hot-patched build is refused by
 * the policy's equality before it can ask for any mandate, then the released build attests.
 */
export function richAttestSteps(stage: DemoStage, trust: RichTrust, io: Io, s: DemoState): Step[] {
  const steps = [refusedBuildStep(stage, trust, io, s), releasedBuildStep(trust, io, s)];
  return trust.tpm ? [enrolStep(stage, trust, io, s), ...steps] : steps;
}

function enrolStep(stage: DemoStage, trust: RichTrust, io: Io, s: DemoState): Step {
  return {
    title: 'The agent enrols its host\'s TPM attestation key (/attest/tpm/enrol, credential activation in the TPM, /attest/tpm/activate)',
    async run() {
      const akName = await trust.tpm!.enrol({ brokerUrl: stage.brokerUrl, agentId: s.agentId, key: s.agentKey });
      const keys = await stage.app.store.attestationKeys.listForAgent(s.agentId);
      expect(keys.some((k) => k.akName === akName), 'the broker has no attestation key for the agent');
      sayTo(io)('tpm-quote', `AK ${akName.slice(0, 20)}… registered: its EK certificate chains to the TPM maker's CA, and the TPM released the sealed secret`);
    },
  };
}

function refusedBuildStep(stage: DemoStage, trust: RichTrust, io: Io, s: DemoState): Step {
  const say = sayTo(io);
  const { released, patched } = trust.builds;
  return {
    title: 'A hot-patched build attests with the release\'s provenance: refused by the policy\'s equality, before any mandate is asked',
    async run() {
      if (trust.tpm) await trust.tpm.measure(patched.digest);
      // The same agent (its key), running other code: evidence from the patched file, provenance copied from the release.
      const impostor = createAgentClient({ issuer: stage.brokerUrl, clientId: s.agentId, clientKey: s.agentKey, evidence: trust.evidence(patched) });
      const error = await impostor.attest().then(() => null, (e: unknown) => e);
      expect(error instanceof OAuthResponseError && error.status === 400, `expected 400 from /attest, got ${error === null ? 'an attestation result' : describeError(error)}`);
      say('running', `${short(patched.digest)} ${patched.file} (code-digest${trust.tpm ? ', and measured by the TPM' : ''})`);
      say('provenance', `${short(released.digest)} ${released.file} (the signed subject of the release's bundle)`);
      say('refused', `${error.status} ${error.oauthError}: ${String(error.errorDescription)}`);
      const [record] = await stage.app.store.attestations.listByAgent(s.agentId, 1);
      expect(record?.verdict === 'rejected', `the broker's newest attestation record is ${record?.verdict ?? 'missing'}, expected rejected`);
      say('attestors', record.results.map((r) => `${r.attestor} ${r.status}`).join(', '));
      for (const failure of record.failures) say('failure', `${failure.claim ?? failure.attestor ?? ''}  ${failure.reason}`);
      expect(record.failures.some((f) => f.reason === 'ERR_POLICY_EQUALITY' && f.claim === 'sigstore.digest == code-digest.digest'), 'no ERR_POLICY_EQUALITY on sigstore.digest == code-digest.digest');
      const mandates = (await stage.admin.get(`/admin/v1/mandates?agent=${s.agentId}`)).mandates as Wire[] | undefined;
      expect((mandates ?? []).length === 0, `the agent has ${mandates?.length} mandates, expected none`);
      say('mandates', 'none: without an attestation result the agent has nothing to ask with');
    },
  };
}

function releasedBuildStep(trust: RichTrust, io: Io, s: DemoState): Step {
  const say = sayTo(io);
  const { released } = trust.builds;
  const expected: Record<string, string> = { sigstore: 'affirming', 'k8s-sa-token': 'affirming', 'spiffe-jwt-svid': 'affirming', 'code-digest': trust.tpm ? 'affirming' : 'warning' };
  if (trust.tpm) expected['tpm-quote'] = 'affirming';
  return {
    title: `The released build attests (SDK: /challenge, then /attest with ${Object.keys(expected).length} pieces of evidence and a DPoP proof)`,
    async run() {
      if (trust.tpm) await trust.tpm.measure(released.digest);
      s.attestation = await s.agent.attest();
      const { attestors, jkt } = readResult(s.attestation);
      for (const [id, status] of Object.entries(expected)) expect(attestors[id]?.status === status, `${id} is ${attestors[id]?.status ?? 'missing'}, expected ${status}`);
      expect(jkt === s.jkt, 'the result is not bound to the agent\'s DPoP key');
      const claims = (id: string) => attestors[id]!.claims;
      const digests = Object.keys(expected).flatMap((id) => (claims(id).digest === undefined ? [] : [claims(id).digest]));
      expect(digests.every((d) => d === released.digest), `the digests differ: ${digests.join(', ')}`);
      const bound = 'audience bound to the nonce and DPoP key, single use';
      say('sigstore', `affirming  ${short(claims('sigstore').digest)} signed by ${String(claims('sigstore').workflow)} (provenance, not a measurement)`);
      say('k8s-sa-token', `affirming  ${String(claims('k8s-sa-token').namespace)}/${String(claims('k8s-sa-token').serviceaccount)}, pod ${String(claims('k8s-sa-token').pod)}; ${bound}`);
      say('spiffe-jwt-svid', `affirming  ${String(claims('spiffe-jwt-svid').spiffe_id)}; ${bound}`);
      if (trust.tpm) say('tpm-quote', `affirming  ${short(claims('tpm-quote').digest)} measured in PCR 10, quoted by AK ${String(claims('tpm-quote').akName).slice(0, 12)}… with extraData = SHA-256(nonce ‖ jkt)`);
      say('code-digest', trust.tpm
        ? `affirming  ${short(claims('code-digest').digest)} (the agent's claim, affirmed: equal to the TPM's measurement)`
        : `warning    ${short(claims('code-digest').digest)} (the agent's own claim: equal to the signed subject, yet not a measurement)`);
      say('equal', trust.tpm ? 'sigstore.digest == code-digest.digest == tpm-quote.digest' : 'sigstore.digest == code-digest.digest');
      say('verdict', `${s.attestation.verdict}, fresh for ${s.attestation.expiresIn} s, cnf.jkt ${s.jkt}`);
    },
  };
}
