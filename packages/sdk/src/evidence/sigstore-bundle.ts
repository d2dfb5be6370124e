import { readFile, stat } from 'node:fs/promises';
import { ConfigurationError } from '../errors.ts';
import type { EvidenceItem } from '../agent/attest.ts';
import { digestArtifact, type ArtifactDigest } from './artifact-digest.ts';

/** The outer shape of a Sigstore bundle (protobuf-specs `Bundle` in its JSON form); the broker verifies the rest. */
export interface SigstoreBundle {
  mediaType: string;
  verificationMaterial: Record<string, unknown>;
  dsseEnvelope?: Record<string, unknown>;
  messageSignature?: Record<string, unknown>;
}

/** The broker's limit for `sigstore` evidence; larger bundles are refused before upload. */
const MAX_BUNDLE_BYTES = 131_072;
const MEDIA_TYPE = /^application\/vnd\.dev\.sigstore\.bundle(\+json;version=0\.[1-3]|\.v0\.3\+json)$/;

/**
 * Reads a Sigstore bundle file (`*.sigstore.json` from `actions/attest-build-provenance` or
 * `cosign … --bundle`) and checks its outer shape, so a wrong file fails at the agent with its
 * path rather than at the broker. Signatures are not checked here: the broker does that.
 *
 * @example
 * ```ts
 * const bundle = await loadSigstoreBundle('/app/agent.sigstore.json');
 * ```
 */
export async function loadSigstoreBundle(path: string): Promise<SigstoreBundle> {
  let text: string;
  try {
    if ((await stat(path)).size > MAX_BUNDLE_BYTES) throw new ConfigurationError(`${path} is larger than ${MAX_BUNDLE_BYTES} bytes`);
    text = await readFile(path, 'utf8');
  } catch (cause) {
    if (cause instanceof ConfigurationError) throw cause;
    throw new ConfigurationError(`cannot read the Sigstore bundle ${path}`, { cause });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (cause) {
    throw new ConfigurationError(`${path} is not JSON`, { cause });
  }
  const problem = shapeProblem(value);
  if (problem !== null) throw new ConfigurationError(`${path} is not a Sigstore bundle: ${problem}`);
  return value as SigstoreBundle;
}

/**
 * `sigstore` evidence for `POST /attest`: the bundle of the running artifact and that artifact's
 * digest, which must be one the bundle signs. A bundle proves provenance, not what runs: pair it
 * with a measurement (TPM quote) or at least `code-digest` evidence of the same digest.
 *
 * @example
 * ```ts
 * const evidence = async () => [await sigstoreEvidence({ bundle: '/app/agent.sigstore.json', artifact: '/app/agent.js' })];
 * ```
 */
export async function sigstoreEvidence(paths: { bundle: string; artifact: string }): Promise<EvidenceItem & { evidence: { bundle: SigstoreBundle; artifactDigest: ArtifactDigest } }> {
  const [bundle, artifactDigest] = await Promise.all([loadSigstoreBundle(paths.bundle), digestArtifact(paths.artifact)]);
  return { attestor: 'sigstore', evidence: { bundle, artifactDigest } };
}

function shapeProblem(value: unknown): string | null {
  if (!isObject(value)) return 'not a JSON object';
  if (typeof value.mediaType !== 'string' || !MEDIA_TYPE.test(value.mediaType)) return 'unknown mediaType';
  if (!isObject(value.verificationMaterial)) return 'no verificationMaterial';
  const contents = [value.dsseEnvelope, value.messageSignature].filter((content) => content !== undefined);
  if (contents.length !== 1 || !isObject(contents[0])) return 'needs exactly one of dsseEnvelope, messageSignature';
  return null;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
