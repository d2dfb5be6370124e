import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EvidenceItem, EvidenceProvider } from '@mandate/sdk';
import { digestArtifact, sigstoreEvidence } from '@mandate/sdk/evidence';
import { createClusterSigner, WORKLOAD, type ClusterSigner } from '../attestors/k8s-sa-token/cluster-signer.ts';
import { startLocalTrustDomain, type LocalTrustDomain } from '../attestors/spiffe-jwt-svid/local-trust-domain.ts';
import type { DemoPlan } from './demo.ts';
import { richAttestSteps } from './demo-rich-steps.ts';
import type { DemoStage, StageTrust } from './demo-stage.ts';
import { AGENT_FILE, startDemoTpm, type DemoTpm } from './demo-tpm.ts';

export const RICH_POLICY = 'attested-release';
const CLUSTER = 'https://kubernetes.default.svc.cluster.local';
const TRUST_DOMAIN = 'prod.acme.internal';
/** SPIRE's usual registration of a Kubernetes workload: the same namespace and service account the cluster vouches for. */
export const SPIFFE_ID = `spiffe://${TRUST_DOMAIN}/ns/${WORKLOAD.namespace}/sa/${WORKLOAD.serviceaccount.name}`;

/** An artifact of the agent on disk, and its digest as the SDK computes it. */
export interface Build {
  file: string;
  path: string;
  digest: string;
}

/** The rich demo's trust sources, all local with keys made now, and the agent's evidence from them. */
export interface RichTrust extends StageTrust {
  tpm: DemoTpm | null;
  /** Header lines naming each trust source. */
  lines: string[];
  /** The release (signed by its workflow) and a hot patch of it that nobody built. */
  builds: { released: Build; patched: Build };
  /** Evidence of an agent running `build`, with the release's provenance either way. */
  evidence(build: Build): EvidenceProvider;
}

/** The local identity sources and the files the broker reads them from. */
interface Sources {
  cluster: ClusterSigner;
  domain: LocalTrustDomain;
  builds: { released: Build; patched: Build };
  /** The release's Sigstore bundle, as the release page offers it. */
  bundleFile: string;
  files: { root: string; jwks: string; bundle: string };
  /** The signer the sigstore attestor accepts: the release workflow, certified for GitHub's OIDC issuer. */
  signer: { issuer: string; repository: string; workflow: string };
}

/**
 * Starts the local Sigstore, cluster signer, SPIFFE trust domain and (when installed) swtpm, writes
 * their trust files into `dir`, and states the policy over them.
 *
 * @example
 * const stage = await startDemoStage((dir) => startRichTrust(dir, { tpm: true }));
 */
export async function startRichTrust(dir: string, options: { tpm: boolean }): Promise<RichTrust> {
  const sources = await startSources(dir);
  // Last: the only source with a process to stop should anything above fail.
  const started = options.tpm ? await startDemoTpm() : 'left out (--no-tpm)';
  const tpm = typeof started === 'string' ? null : started;
  const { files, signer } = sources;
  const attestors: Record<string, unknown> = {
    sigstore: { trustedRootFile: files.root, identities: [{ san: signer.workflow, issuer: signer.issuer }], tlogThreshold: 0, ctlogThreshold: 0 },
    'k8s-sa-token': { issuer: CLUSTER, jwksFile: files.jwks, namespaces: [WORKLOAD.namespace] },
    'spiffe-jwt-svid': { trustDomains: [{ trustDomain: TRUST_DOMAIN, bundleFile: files.bundle, allowedPaths: [`/ns/${WORKLOAD.namespace}/`] }] },
    ...(tpm ? { 'tpm-quote': { ekCaFile: tpm.caFile, codeEventName: AGENT_FILE } } : {}),
  };
  const lines = [
    `Sigstore         ${files.root}  a local Fulcio-like CA and RFC 3161 timestamp authority (@sigstore/mock, keys made now; no transparency log offline)`,
    `Kubernetes       ${CLUSTER}  a local cluster signer, JWKS in ${files.jwks}`,
    `SPIFFE           spiffe://${TRUST_DOMAIN}  a local trust domain, bundle in ${files.bundle}`,
    tpm ? `TPM              ${tpm.tcti}  swtpm (a software TPM) with an EK certificate from its own CA` : `TPM              tpm-quote not used: ${String(started)}; code-digest stays warning (no measurement)`,
  ];
  const policies = { [RICH_POLICY]: richPolicy(tpm !== null, signer) };
  const close = async () => {
    await sources.domain.close();
    await tpm?.stop();
  };
  return { tpm, lines, builds: sources.builds, evidence: (build) => evidenceOf(build, sources, tpm), attestors, policies, close };
}

/** Keys made now; the release is signed once (a bundle is the same whoever presents it). */
async function startSources(dir: string): Promise<Sources> {
  const { startLocalSigstore, provenanceStatement, GITHUB_ISSUER, REPOSITORY, WORKFLOW } = await loadLocalSigstore();
  const [sigstore, cluster, domain] = await Promise.all([startLocalSigstore(), createClusterSigner(CLUSTER), startLocalTrustDomain(TRUST_DOMAIN)]);
  const released = await writeBuild(dir, 'triage-bot-1.4.2.js', "export const version = '1.4.2'; // built by release.yml\n");
  const patched = await writeBuild(dir, 'triage-bot-1.4.2-hotpatch.js', "export const version = '1.4.2'; // patched in place, never built\n");
  const statement = { ...provenanceStatement(released.digest), subject: [{ name: released.file, digest: { sha256: released.digest.slice('sha256:'.length) } }] };
  const bundleFile = write(dir, `${released.file}.sigstore.json`, await sigstore.signProvenance(released.digest, { statement }));
  const files = { root: write(dir, 'trusted-root.json', sigstore.trustedRoot), jwks: write(dir, 'cluster-jwks.json', cluster.jwks), bundle: write(dir, 'spiffe-bundle.json', domain.bundle()) };
  return { cluster, domain, builds: { released, patched }, bundleFile, files, signer: { issuer: GITHUB_ISSUER, repository: REPOSITORY, workflow: WORKFLOW } };
}

/** The agent's evidence while running `build`: the tokens carry the challenge's audience, the quote its nonce and jkt. */
function evidenceOf(build: Build, sources: Sources, tpm: DemoTpm | null): EvidenceProvider {
  return async ({ nonce, jkt, audience }) => {
    const items: EvidenceItem[] = [
      await sigstoreEvidence({ bundle: sources.bundleFile, artifact: sources.builds.released.path }),
      { attestor: 'k8s-sa-token', evidence: await sources.cluster.sign({ audience }) },
      { attestor: 'spiffe-jwt-svid', evidence: await sources.domain.sign({ sub: SPIFFE_ID, aud: audience }) },
    ];
    if (tpm) items.push({ attestor: 'tpm-quote', evidence: await tpm.quote(nonce, jkt) });
    items.push({ attestor: 'code-digest', evidence: { digest: await digestArtifact(build.path) } });
    return items;
  };
}

/**
 * Every attestor required, with pinned claims; the signed subject must be what the agent says it
 * runs, and with a TPM also what the TPM measured (which affirms code-digest, PROTOCOL §3).
 */
function richPolicy(measured: boolean, signer: Sources['signer']): Record<string, unknown> {
  const allOf = [
    { attestor: 'sigstore', claims: { repository: signer.repository, workflow: signer.workflow } },
    { attestor: 'k8s-sa-token', claims: { namespace: WORKLOAD.namespace, serviceaccount: WORKLOAD.serviceaccount.name } },
    { attestor: 'spiffe-jwt-svid', claims: { spiffe_id: SPIFFE_ID } },
    ...(measured ? [{ attestor: 'tpm-quote' }] : []),
    { attestor: 'code-digest', minStatus: measured ? 'affirming' : 'warning' },
  ];
  const equal = measured
    ? [['sigstore.digest', 'code-digest.digest'], ['tpm-quote.digest', 'code-digest.digest'], ['sigstore.digest', 'tpm-quote.digest']]
    : [['sigstore.digest', 'code-digest.digest']];
  return { freshness: '5m', anyOf: [{ allOf }], equal };
}

/** `--policy rich` as a demo plan: the shared loop after the rich attestation steps. */
export function richPlan(stage: DemoStage, trust: RichTrust): DemoPlan {
  return { policy: RICH_POLICY, evidence: trust.evidence(trust.builds.released), lines: trust.lines, attestSteps: (io, s) => richAttestSteps(stage, trust, io, s) };
}

/** @sigstore/mock is a development dependency of the broker: say so instead of a module-resolution trace. */
async function loadLocalSigstore() {
  try {
    return await import('../attestors/sigstore/local-sigstore.ts');
  } catch (error) {
    const { code, message } = error as { code?: string; message?: string };
    if (!['ERR_MODULE_NOT_FOUND', 'MODULE_NOT_FOUND'].includes(String(code)) || !String(message).includes('@sigstore/mock')) throw error;
    throw new Error('--policy rich needs @sigstore/mock (a development dependency of @mandate/broker) for its local Sigstore CA: install the workspace without --omit=dev');
  }
}

async function writeBuild(dir: string, file: string, text: string): Promise<Build> {
  const path = write(dir, file, text);
  return { file, path, digest: await digestArtifact(path) };
}

function write(dir: string, file: string, content: unknown): string {
  const path = join(dir, file);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content, null, 2));
  return path;
}
