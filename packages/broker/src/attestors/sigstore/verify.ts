import { createPublicKey } from 'node:crypto';
import type { X509Certificate } from '@sigstore/core';
import { BUNDLE_V01_MEDIA_TYPE, BUNDLE_V02_MEDIA_TYPE, BUNDLE_V03_LEGACY_MEDIA_TYPE, BUNDLE_V03_MEDIA_TYPE, bundleFromJSON, type Bundle } from '@sigstore/bundle';
import { HashAlgorithm } from '@sigstore/protobuf-specs';
import { toSignedEntity, type SignedEntity, type Signer, type Verifier } from '@sigstore/verify';
import { clip } from '../../core/clip.ts';
import { MandateError, type ErrorCode } from '../../core/errors.ts';
import type { AttestorResult, ClaimValue } from '../../ports/attestor.ts';
import { digestEvidence } from '../evidence-digest.ts';
import { verifyDigestSignature } from './digest-signature.ts';
import { FULCIO_EXTENSION, fulcioExtension, signingCertificate, type TrustedIdentity } from './identity.ts';
import { IN_TOTO_PAYLOAD_TYPE, readStatement, STATEMENT_V1 } from './statement.ts';

export interface SigstoreVerifyContext {
  verifier: Verifier;
  identities: readonly TrustedIdentity[];
  predicateTypes: ReadonlySet<string>;
  timestampThreshold: number;
}

/** Bundles of GitHub attestations are ~10 KiB; anything far larger is refused before parsing. */
const MAX_EVIDENCE_CHARS = 131_072;
const MEDIA_TYPES = new Set([BUNDLE_V01_MEDIA_TYPE, BUNDLE_V02_MEDIA_TYPE, BUNDLE_V03_LEGACY_MEDIA_TYPE, BUNDLE_V03_MEDIA_TYPE]);
const DIGEST = /^sha256:[0-9a-f]{64}$/i;
/** @sigstore/verify error codes → ours: the first step of the bundle that does not verify. */
const VERIFIER_FAILURES = new Map<string, [ErrorCode, string]>(Object.entries({
  TIMESTAMP_ERROR: ['ERR_SIGSTORE_TIMESTAMP_INVALID', 'no trusted timestamp authority verifies the timestamp over this signature'],
  CERTIFICATE_ERROR: ['ERR_SIGSTORE_CERTIFICATE_UNTRUSTED', 'the certificate does not chain to a trusted CA, lacks the required SCTs, or was not valid at the signed time'],
  TLOG_ERROR: ['ERR_SIGSTORE_TLOG_INVALID', 'the bundle has fewer transparency log entries than required'],
  TLOG_BODY_ERROR: ['ERR_SIGSTORE_TLOG_INVALID', 'a transparency log entry is not about this signature'],
  TLOG_INCLUSION_PROOF_ERROR: ['ERR_SIGSTORE_TLOG_INVALID', 'a transparency log inclusion proof does not verify'],
  TLOG_INCLUSION_PROMISE_ERROR: ['ERR_SIGSTORE_TLOG_INVALID', 'a transparency log entry is not signed by a trusted log'],
  TLOG_MISSING_INCLUSION_ERROR: ['ERR_SIGSTORE_TLOG_INVALID', 'a transparency log entry has neither inclusion proof nor promise'],
} satisfies Record<string, [ErrorCode, string]>));

interface Signed {
  /** Distinct `sha256:<hex>` digests the bundle signs. */
  digests: string[];
  provenance: { repository?: string | undefined; workflow?: string | undefined; builder?: string | undefined };
}

/**
 * Verifies a Sigstore bundle in one pass, each check ending in its own error. The bundle is not
 * bound to the challenge (a public signature over an artifact): it proves provenance, and a policy
 * binds its `digest` to a measurement of the running artifact by equality (README: replay).
 *
 * @example
 * const result = verifySigstoreBundle({ bundle, artifactDigest: 'sha256:…' }, context);
 * result.claims.digest; // 'sha256:…', to be equal to a measured digest by policy
 */
export function verifySigstoreBundle(evidence: unknown, ctx: SigstoreVerifyContext): AttestorResult {
  const { json, artifactDigest } = readEvidence(evidence);
  const bundle = parseBundle(json);
  const entity = toEntity(bundle);
  const certificate = checkContent(bundle, entity);
  if (countTimestamps(entity) < ctx.timestampThreshold) fail('ERR_SIGSTORE_TIMESTAMP_MISSING', 'the bundle has no signed timestamp (RFC 3161 or transparency log) to check the certificate at');
  const signer = verifyEntity(ctx.verifier, entity);
  const { san, issuer } = checkIdentity(signer, ctx.identities);
  const signed = readSigned(bundle, ctx.predicateTypes);
  const digest = chooseDigest(signed.digests, artifactDigest);
  return {
    attestor: 'sigstore',
    status: 'affirming',
    claims: defined({
      digest,
      // The CA's extensions (copied from the CI's OIDC token) first; the signer's own predicate as fallback.
      repository: fulcioExtension(certificate, FULCIO_EXTENSION.sourceRepositoryUri) ?? signed.provenance.repository,
      workflow: fulcioExtension(certificate, FULCIO_EXTENSION.buildConfigUri) ?? signed.provenance.workflow,
      builder: fulcioExtension(certificate, FULCIO_EXTENSION.buildSignerUri) ?? signed.provenance.builder,
      san,
      issuer,
    }),
    // Provenance of an artifact, not a measurement of what runs: a policy binds `digest` to one.
    measured: [],
    evidenceDigest: digestEvidence(evidence),
  };
}

/** `{ bundle, artifactDigest? }` or the bundle alone; size-checked before any parsing. */
function readEvidence(evidence: unknown): { json: unknown; artifactDigest?: string } {
  if (!isObject(evidence)) fail('ERR_SIGSTORE_BUNDLE_MALFORMED', 'evidence must be a Sigstore bundle or { bundle, artifactDigest }');
  if (JSON.stringify(evidence).length > MAX_EVIDENCE_CHARS) fail('ERR_SIGSTORE_BUNDLE_MALFORMED', `evidence must be at most ${MAX_EVIDENCE_CHARS} characters of JSON`);
  if (!('bundle' in evidence)) return { json: evidence };
  const { bundle, artifactDigest, ...rest } = evidence;
  if (Object.keys(rest).length > 0) fail('ERR_SIGSTORE_BUNDLE_MALFORMED', 'evidence may hold only bundle and artifactDigest');
  if (artifactDigest === undefined) return { json: bundle };
  if (typeof artifactDigest !== 'string' || !DIGEST.test(artifactDigest)) fail('ERR_SIGSTORE_BUNDLE_MALFORMED', 'artifactDigest must be sha256:<64 hex>');
  return { json: bundle, artifactDigest: artifactDigest.toLowerCase() };
}

function parseBundle(json: unknown): Bundle {
  if (!isObject(json) || typeof json.mediaType !== 'string' || !MEDIA_TYPES.has(json.mediaType)) fail('ERR_SIGSTORE_BUNDLE_MALFORMED', 'not a Sigstore bundle (mediaType)');
  try {
    return bundleFromJSON(json);
  } catch {
    fail('ERR_SIGSTORE_BUNDLE_MALFORMED', 'the bundle does not have the Sigstore bundle structure');
  }
}

/** Parses the certificate and timestamps (DER) of a structurally valid bundle. */
function toEntity(bundle: Bundle): SignedEntity {
  try {
    const entity = toSignedEntity(bundle);
    // Timestamps are parsed lazily: read each signed time now, so a bad one is malformed, not unverified.
    for (const timestamp of entity.timestamps) if (timestamp.$case === 'timestamp-authority') void timestamp.timestamp.signingTime;
    return entity;
  } catch {
    fail('ERR_SIGSTORE_BUNDLE_MALFORMED', 'the bundle\'s certificate or timestamps do not parse');
  }
}

/** Keyless bundles whose content the attestor understands; returns the signing certificate. */
function checkContent(bundle: Bundle, entity: SignedEntity): X509Certificate {
  const certificate = signingCertificate(entity);
  if (certificate === undefined) fail('ERR_SIGSTORE_UNSUPPORTED_CONTENT', 'keyless bundles only: a bare public key names no signer identity');
  const { content } = bundle;
  if (content.$case === 'dsseEnvelope') {
    const { payloadType, signatures } = content.dsseEnvelope;
    if (payloadType !== IN_TOTO_PAYLOAD_TYPE || signatures.length !== 1) fail('ERR_SIGSTORE_UNSUPPORTED_CONTENT', `a DSSE envelope must carry one signature over ${IN_TOTO_PAYLOAD_TYPE}`);
    return certificate;
  }
  const { messageDigest } = content.messageSignature;
  if (messageDigest?.algorithm !== HashAlgorithm.SHA2_256 || messageDigest.digest.length !== 32 || curveOf(certificate) !== 'prime256v1')
    fail('ERR_SIGSTORE_UNSUPPORTED_CONTENT', 'a message signature must be ECDSA P-256 over a SHA-256 digest');
  // Node verifies only over whole messages; the broker holds the digest (see digest-signature.ts).
  entity.signature = withDigestVerification(entity.signature, messageDigest.digest);
  return certificate;
}

/** The signer must match one configured identity on SAN, and that identity on OIDC issuer. */
function checkIdentity(signer: Signer, identities: readonly TrustedIdentity[]): { san: string; issuer: string } {
  const san = signer.identity?.subjectAlternativeName;
  const issuer = signer.identity?.extensions?.issuer;
  const candidates = san === undefined ? [] : identities.filter((identity) => identity.matchesSan(san));
  if (san === undefined || candidates.length === 0) fail('ERR_SIGSTORE_SAN_MISMATCH', `signer ${clip(String(san))} is not an accepted identity`);
  if (issuer === undefined || !candidates.some((identity) => identity.issuer === issuer)) fail('ERR_SIGSTORE_ISSUER_MISMATCH', `OIDC issuer ${clip(String(issuer))} is not accepted for this signer`);
  return { san, issuer };
}

/** What the bundle signs: the message digest, or the subjects of an accepted in-toto statement. */
function readSigned(bundle: Bundle, predicateTypes: ReadonlySet<string>): Signed {
  const { content } = bundle;
  if (content.$case === 'messageSignature') return { digests: [`sha256:${content.messageSignature.messageDigest!.digest.toString('hex')}`], provenance: {} };
  const statement = readStatement(content.dsseEnvelope.payload);
  if (statement === null || statement.type !== STATEMENT_V1) fail('ERR_SIGSTORE_STATEMENT_TYPE', `the payload must be an in-toto Statement (${STATEMENT_V1})`);
  if (typeof statement.predicateType !== 'string' || !predicateTypes.has(statement.predicateType))
    fail('ERR_SIGSTORE_PREDICATE_TYPE', `predicate type ${clip(String(statement.predicateType))} is not accepted`);
  if (statement.subjectDigests.length === 0) fail('ERR_SIGSTORE_SUBJECT_DIGEST_MISSING', 'no subject of the statement has a sha256 digest');
  return { digests: statement.subjectDigests, provenance: statement.provenance };
}

/** The agent's artifactDigest must be signed; without one, the bundle must sign exactly one digest. */
function chooseDigest(signed: string[], artifactDigest: string | undefined): string {
  if (artifactDigest === undefined && signed.length !== 1) fail('ERR_SIGSTORE_ARTIFACT_DIGEST', 'several subjects are signed: name the running one in artifactDigest', { reason: 'missing' });
  const digest = artifactDigest ?? signed[0]!;
  if (!signed.includes(digest)) fail('ERR_SIGSTORE_ARTIFACT_DIGEST', 'artifactDigest is not a digest the bundle signs', { reason: 'unsigned' });
  return digest;
}

/** The named curve of the certified key; undefined for other key types or an unreadable key. */
function curveOf(certificate: X509Certificate): string | undefined {
  try {
    return createPublicKey({ key: certificate.publicKey, format: 'der', type: 'spki' }).asymmetricKeyDetails?.namedCurve;
  } catch {
    return undefined;
  }
}

function withDigestVerification(content: SignedEntity['signature'], digest: Buffer): SignedEntity['signature'] {
  return {
    signature: content.signature,
    compareSignature: (signature) => content.compareSignature(signature),
    compareDigest: (other) => content.compareDigest(other),
    verifySignature: (key) => verifyDigestSignature(key, digest, content.signature),
  };
}

/** Timestamps @sigstore/verify can check: RFC 3161 ones, and log entries with a signed promise. */
function countTimestamps(entity: SignedEntity): number {
  return entity.timestamps.filter((t) => t.$case === 'timestamp-authority' || t.tlogEntry.inclusionPromise !== undefined).length;
}

function verifyEntity(verifier: Verifier, entity: SignedEntity): Signer {
  try {
    return verifier.verify(entity);
  } catch (error) {
    const failure = VERIFIER_FAILURES.get(String((error as { code?: unknown }).code));
    if (failure !== undefined) fail(...failure);
    if ((error as { code?: unknown }).code === 'SIGNATURE_ERROR') fail('ERR_SIGSTORE_SIGNATURE_INVALID', 'the signature does not verify with the certified key');
    // Not a verification outcome: a lazily parsed part of the bundle (DER in a certificate or timestamp) is broken.
    fail('ERR_SIGSTORE_BUNDLE_MALFORMED', 'a part of the bundle does not parse');
  }
}

function defined(claims: Record<string, string | undefined>): Record<string, ClaimValue> {
  return Object.fromEntries(Object.entries(claims).filter((entry): entry is [string, string] => entry[1] !== undefined));
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function fail(code: ErrorCode, message: string, details?: Record<string, unknown>): never {
  throw new MandateError(code, message, details);
}
