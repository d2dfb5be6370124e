import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { create as createCodeDigest } from '../../src/attestors/code-digest/index.ts';
import { createClusterSigner } from '../../src/attestors/k8s-sa-token/cluster-signer.ts';
import * as k8s from '../../src/attestors/k8s-sa-token/index.ts';
import { createMemoryReplayCache } from '../../src/attestors/memory-replay-cache.ts';
import * as oidcToken from '../../src/attestors/oidc-token/index.ts';
import { startLocalIssuer } from '../../src/attestors/oidc-token/local-issuer.ts';
import * as sigstore from '../../src/attestors/sigstore/index.ts';
import { GITHUB_ISSUER, startLocalSigstore, WORKFLOW } from '../../src/attestors/sigstore/local-sigstore.ts';
import * as spiffe from '../../src/attestors/spiffe-jwt-svid/index.ts';
import { startLocalTrustDomain } from '../../src/attestors/spiffe-jwt-svid/local-trust-domain.ts';
import { readEcdsaSignature, readQuoteAttest } from '../../src/attestors/tpm-quote/attest.ts';
import { checkAkPublic } from '../../src/attestors/tpm-quote/enrolment.ts';
import { readEventLog, replayEventLog, type ImaEvent } from '../../src/attestors/tpm-quote/event-log.ts';
import * as tpmQuote from '../../src/attestors/tpm-quote/index.ts';
import { readPublicArea } from '../../src/attestors/tpm-quote/public-area.ts';
import { createSoftwareAk } from '../../src/attestors/tpm-quote/software-ak.ts';
import { MandateError } from '../../src/core/errors.ts';
import type { Attestor, EvidenceBinding } from '../../src/ports/attestor.ts';
import { evidenceAudience, evidenceExtraData } from '../../src/services/challenge.ts';
import { fuzz, type FuzzTarget } from './fuzz-harness.ts';
import { byteMutations, fieldMutations, mutateBytes, mutateFields, mutateString, nastyValue, stringMutations, type ByteMutation, type FieldMutation, type StringMutation } from './fuzz-mutate.ts';

/**
 * Evidence fuzz targets: every attestor fed valid evidence from a real local issuer (OpenID
 * issuer, cluster signer, SPIFFE trust domain, Sigstore CA + TSA, software TPM AK) with one thing
 * changed — a claim (re-signed), the text, the shape, the binding — and the TPM structure readers
 * fed mutated bytes. Oracle: an attestor throws only MandateError; the TPM readers only RangeError.
 */

const AGENT_ID = 'agt_AAAAAAAAAAAAAAAAAAAAAA';
const isMandateError = (error: unknown) => error instanceof MandateError;

function freshBinding(): EvidenceBinding {
  const nonce = randomBytes(40).toString('base64url');
  const jkt = randomBytes(32).toString('base64url');
  return { nonce, jkt, agentId: AGENT_ID, now: Date.now(), expectedAudience: evidenceAudience(nonce, jkt) };
}

/** What happens to valid JWT evidence: a claim re-signed, the text, the whole value, the binding. */
type JwtEvidenceMutation =
  | { kind: 'claim'; name: string; value: unknown }
  | { kind: 'text'; edits: StringMutation[] }
  | { kind: 'shape'; value: unknown }
  | { kind: 'binding'; field: 'nonce' | 'jkt' | 'agentId' | 'now' }
  | { kind: 'none' };

const jwtEvidenceMutation = (claimNames: readonly string[]): fc.Arbitrary<JwtEvidenceMutation> =>
  fc.oneof(
    { weight: 4, arbitrary: fc.record({ kind: fc.constant('claim' as const), name: fc.oneof(fc.constantFrom(...claimNames), fc.string({ maxLength: 10 })), value: fc.oneof(nastyValue, fc.constant(undefined)) }) },
    { weight: 3, arbitrary: fc.record({ kind: fc.constant('text' as const), edits: stringMutations }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('shape' as const), value: nastyValue }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('binding' as const), field: fc.constantFrom('nonce' as const, 'jkt' as const, 'agentId' as const, 'now' as const) }) },
    { weight: 1, arbitrary: fc.constant({ kind: 'none' as const }) },
  );

const signedPart = (jws: string) => jws.slice(0, jws.lastIndexOf('.'));

function otherBinding(binding: EvidenceBinding, field: 'nonce' | 'jkt' | 'agentId' | 'now'): EvidenceBinding {
  if (field === 'agentId') return { ...binding, agentId: 'agt_BBBBBBBBBBBBBBBBBBBBBB' };
  if (field === 'now') return { ...binding, now: binding.now + 3_600_000 };
  const other = freshBinding();
  const next = { ...binding, [field]: other[field] };
  return { ...next, expectedAudience: evidenceAudience(next.nonce, next.jkt) };
}

/**
 * A JWT-evidence target. `sign(claims, binding)` signs valid evidence with `claims` overriding.
 * A changed text or a wrong binding must be rejected (the audience binds nonce and key).
 */
function jwtTarget(name: string, weight: number, attestor: Attestor, claimNames: readonly string[], sign: (claims: Record<string, unknown>, binding: EvidenceBinding) => Promise<string>, bound: boolean): FuzzTarget {
  return {
    name,
    weight,
    run: (options) =>
      fuzz(name, jwtEvidenceMutation(claimNames), async (m) => {
        const binding = freshBinding();
        const claims = m.kind === 'claim' ? { [m.name]: m.value } : {};
        const valid = await sign(claims, binding);
        const evidence = m.kind === 'text' ? mutateString(m.edits, valid) : m.kind === 'shape' ? m.value : valid;
        const result = await attestor.verify(evidence, m.kind === 'binding' ? otherBinding(binding, m.field) : binding);
        // jose reads the signature segment leniently (whitespace, spare bits): a respelled signature
        // may verify, but what it signs must be exactly the original (replay keys use that).
        if (m.kind === 'text') assert.equal(signedPart(String(evidence)), signedPart(valid), `tampered evidence accepted: ${String(evidence)}`);
        // The audience binds nonce and DPoP key (PROTOCOL §3); the agent is bound through the nonce.
        if (m.kind === 'binding' && bound && (m.field === 'nonce' || m.field === 'jkt')) assert.fail(`evidence accepted under another ${m.field}`);
        assert.equal(result.attestor, attestor.id);
      }, isMandateError, options),
  };
}

const OIDC_CLAIMS = ['iss', 'aud', 'exp', 'iat', 'nbf', 'jti', 'sub', 'repository_id', 'sha'];
const K8S_CLAIMS = ['iss', 'aud', 'exp', 'iat', 'nbf', 'jti', 'sub', 'kubernetes.io'];
const SPIFFE_CLAIMS = ['sub', 'aud', 'exp', 'iat', 'jti'];

async function oidcCase(): Promise<{ target: FuzzTarget; close(): Promise<void> }> {
  const issuer = await startLocalIssuer();
  const config = oidcToken.configSchema.parse({ issuers: [{ issuer: issuer.issuer, jwksUri: issuer.jwksUri, allowedAlgs: ['RS256', 'ES256'], claims: ['repository_id', 'sha'] }] });
  const attestor = oidcToken.create(config, { replay: createMemoryReplayCache(), clock: { now: () => Date.now() } });
  const sign = (claims: Record<string, unknown>, binding: EvidenceBinding) => issuer.sign({ aud: binding.expectedAudience, ...claims });
  return { target: jwtTarget('evidence oidc-token', 3, attestor, OIDC_CLAIMS, sign, true), close: issuer.close };
}

async function k8sCase(dir: string): Promise<FuzzTarget> {
  const cluster = await createClusterSigner('https://kubernetes.default.svc.cluster.local');
  const jwksFile = join(dir, 'k8s-jwks.json');
  writeFileSync(jwksFile, JSON.stringify(cluster.jwks));
  const attestor = k8s.create(k8s.configSchema.parse({ issuer: cluster.issuer, jwksFile, namespaces: ['agents'] }), { replay: createMemoryReplayCache(), clock: { now: () => Date.now() } });
  const sign = (claims: Record<string, unknown>, binding: EvidenceBinding) => {
    // `kubernetes.io` members are mutated inside the block, the rest at the top level.
    const { 'kubernetes.io': block, ...top } = claims;
    const kubernetes = 'kubernetes.io' in claims ? { namespace: block } : undefined;
    return cluster.sign({ audience: binding.expectedAudience, claims: top, ...(kubernetes ? { kubernetes } : {}) });
  };
  return jwtTarget('evidence k8s-sa-token', 3, attestor, K8S_CLAIMS, sign, true);
}

async function spiffeCase(dir: string): Promise<{ target: FuzzTarget; close(): Promise<void> }> {
  const domain = await startLocalTrustDomain();
  const bundleFile = join(dir, 'spiffe-bundle.json');
  writeFileSync(bundleFile, JSON.stringify(domain.bundle()));
  const attestor = spiffe.create(spiffe.configSchema.parse({ trustDomains: [{ trustDomain: domain.trustDomain, bundleFile }] }), { replay: createMemoryReplayCache(), clock: { now: () => Date.now() } });
  const sign = (claims: Record<string, unknown>, binding: EvidenceBinding) => domain.sign({ aud: [binding.expectedAudience], ...claims });
  return { target: jwtTarget('evidence spiffe-jwt-svid', 3, attestor, SPIFFE_CLAIMS, sign, true), close: domain.close };
}

/** Sigstore bundles: a few real ones signed once (signing costs more than verifying), mutated anywhere in their JSON. */
type BundleMutation = { kind: 'fields'; fields: FieldMutation[] } | { kind: 'text'; edits: StringMutation[] } | { kind: 'shape'; value: unknown } | { kind: 'none' };

const bundleMutation: fc.Arbitrary<{ pick: number; m: BundleMutation }> = fc.record({
  pick: fc.nat(),
  m: fc.oneof(
    { weight: 6, arbitrary: fc.record({ kind: fc.constant('fields' as const), fields: fieldMutations }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('text' as const), edits: stringMutations }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('shape' as const), value: nastyValue }) },
    { weight: 1, arbitrary: fc.constant({ kind: 'none' as const }) },
  ),
});

async function sigstoreCase(dir: string): Promise<FuzzTarget> {
  const local = await startLocalSigstore(new Date());
  const trustedRootFile = join(dir, 'trusted_root.json');
  writeFileSync(trustedRootFile, JSON.stringify(local.trustedRoot));
  const config = sigstore.configSchema.parse({ trustedRootFile, identities: [{ san: WORKFLOW, issuer: GITHUB_ISSUER }], tlogThreshold: 0, ctlogThreshold: 0 });
  const attestor = sigstore.create(config, { replay: createMemoryReplayCache(), clock: { now: () => Date.now() } });
  const signer = await local.issueSigner();
  const valid: unknown[] = [];
  for (let i = 0; i < 3; i++) {
    const artifactDigest = `sha256:${randomBytes(32).toString('hex')}`;
    valid.push({ bundle: await local.signProvenance(artifactDigest, { signer }), artifactDigest });
  }
  return {
    name: 'evidence sigstore',
    weight: 2,
    run: (options) =>
      fuzz('evidence sigstore', bundleMutation, async ({ pick, m }) => {
        const base = valid[pick % valid.length];
        let evidence: unknown = base;
        if (m.kind === 'fields') evidence = mutateFields(m.fields, base);
        else if (m.kind === 'shape') evidence = m.value;
        else if (m.kind === 'text') {
          const text = mutateString(m.edits, JSON.stringify(base));
          try {
            evidence = JSON.parse(text);
          } catch {
            evidence = text;
          }
        }
        await attestor.verify(evidence, freshBinding());
      }, isMandateError, options),
  };
}

/** TPM quotes from a software AK (byte for byte what swtpm writes), so a mutated quote can be re-signed. */
type QuoteMutation =
  | { kind: 'quote'; bytes: ByteMutation[]; resign: boolean }
  | { kind: 'signature'; bytes: ByteMutation[] }
  | { kind: 'fields'; fields: FieldMutation[] }
  | { kind: 'binding'; field: 'nonce' | 'jkt' | 'agentId' }
  | { kind: 'shape'; value: unknown }
  | { kind: 'none' };

const quoteMutation: fc.Arbitrary<QuoteMutation> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('quote' as const), bytes: byteMutations, resign: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('signature' as const), bytes: byteMutations }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('fields' as const), fields: fieldMutations }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('binding' as const), field: fc.constantFrom('nonce' as const, 'jkt' as const, 'agentId' as const) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('shape' as const), value: nastyValue }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'none' as const }) },
);

const CODE_PATH = '/usr/bin/agent';

function imaLog(length: number): ImaEvent[] {
  const event = (name: string): ImaEvent => ({ pcr: 10, template: 'ima-ng', fileDigest: `sha256:${createHash('sha256').update(name).digest('hex')}`, name });
  return [event('boot_aggregate'), ...Array.from({ length: length - 2 }, (_, i) => event(`/usr/lib/lib${i}.so`)), event(CODE_PATH)];
}

function tpmCase(): { quote: FuzzTarget; structures: FuzzTarget } {
  const ak = createSoftwareAk();
  const eventLog = imaLog(8);
  const pcr10 = replayEventLog(eventLog).toString('hex');
  const config = tpmQuote.configSchema.parse({ pcrs: { '10': [pcr10] }, codeEventName: CODE_PATH, allowedDigests: [eventLog.at(-1)!.fileDigest] });
  const attestor = tpmQuote.create(config, { replay: createMemoryReplayCache(), clock: { now: () => Date.now() }, attestationKeys: { get: async (agentId) => (agentId === AGENT_ID ? [ak.record(AGENT_ID)] : []) } });
  const quote: FuzzTarget = {
    name: 'evidence tpm-quote',
    weight: 3,
    run: (options) =>
      fuzz('evidence tpm-quote', quoteMutation, async (m) => {
        const binding = freshBinding();
        const tweak = m.kind === 'quote' && m.resign ? (attest: Buffer) => mutateBytes(m.bytes, attest) : undefined;
        const signed = ak.quote(evidenceExtraData(binding.nonce, binding.jkt), { '10': pcr10 }, tweak);
        const quoteBytes = m.kind === 'quote' && !m.resign ? mutateBytes(m.bytes, signed.quote) : signed.quote;
        const signature = m.kind === 'signature' ? mutateBytes(m.bytes, signed.signature) : signed.signature;
        const valid = { quote: quoteBytes.toString('base64'), signature: signature.toString('base64'), pcrs: { sha256: { '10': pcr10 } }, eventLog };
        const evidence = m.kind === 'fields' ? mutateFields(m.fields, valid) : m.kind === 'shape' ? m.value : valid;
        await attestor.verify(evidence, m.kind === 'binding' ? otherBinding(binding, m.field) : binding);
        // Changed bytes that were not re-signed must never verify.
        if (m.kind === 'quote' && !m.resign) assert.ok(quoteBytes.equals(signed.quote), 'a tampered quote verified');
        if (m.kind === 'signature') assert.ok(signature.equals(signed.signature), 'a tampered signature verified');
        if (m.kind === 'binding') assert.fail(`a quote verified under another ${m.field}`);
      }, isMandateError, options),
  };
  const sample = ak.quote(evidenceExtraData('n'.repeat(54), 'k'.repeat(43)), { '10': pcr10 });
  const bases = { attest: sample.quote, signature: sample.signature, public: ak.publicArea };
  const structureInput = fc.record({
    reader: fc.constantFrom('attest' as const, 'signature' as const, 'public' as const, 'akPublic' as const, 'eventLog' as const),
    bytes: fc.oneof({ weight: 4, arbitrary: byteMutations.map((ms) => ({ ms, random: undefined })) }, { weight: 1, arbitrary: fc.uint8Array({ maxLength: 300 }).map((random) => ({ ms: [] as ByteMutation[], random: Buffer.from(random) })) }),
    fields: fieldMutations,
  });
  const structures: FuzzTarget = {
    name: 'tpm structures (TPMS_ATTEST, TPMT_SIGNATURE, TPM2B_PUBLIC, event log)',
    weight: 4,
    run: (options) =>
      fuzz('tpm structures', structureInput, ({ reader, bytes, fields }) => {
        if (reader === 'eventLog') return readEventLog(mutateFields(fields, eventLog));
        const base = reader === 'akPublic' ? bases.public : bases[reader];
        const input = bytes.random ?? mutateBytes(bytes.ms, base);
        if (reader === 'attest') return readQuoteAttest(input);
        if (reader === 'signature') return readEcdsaSignature(input);
        if (reader === 'public') return readPublicArea(input);
        return checkAkPublic(input.toString('base64'));
      }, (error) => error instanceof RangeError || error instanceof MandateError, options),
  };
  return { quote, structures };
}

const codeDigestInput = fc.oneof(
  nastyValue,
  fieldMutations.map((ms) => mutateFields(ms, { digest: `sha256:${'a'.repeat(64)}` })),
  stringMutations.map((edits) => ({ digest: mutateString(edits, `sha256:${'a'.repeat(64)}`) })),
);

function codeDigestCase(): FuzzTarget {
  const attestor = createCodeDigest({});
  return { name: 'evidence code-digest', weight: 1, run: (options) => fuzz('evidence code-digest', codeDigestInput, (evidence) => attestor.verify(evidence, freshBinding()), isMandateError, options) };
}

/** Every evidence target, with real local issuers started; `close` stops them. */
export async function evidenceTargets(): Promise<{ targets: FuzzTarget[]; close(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'mandate-fuzz-evidence-'));
  const oidc = await oidcCase();
  const spiffeTarget = await spiffeCase(dir);
  const tpm = tpmCase();
  const targets = [oidc.target, await k8sCase(dir), spiffeTarget.target, await sigstoreCase(dir), tpm.quote, tpm.structures, codeDigestCase()];
  return {
    targets,
    async close() {
      await oidc.close();
      await spiffeTarget.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
