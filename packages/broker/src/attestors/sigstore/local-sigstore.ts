import { createHash, generateKeyPairSync, randomInt, sign as signBytes, type KeyObject } from 'node:crypto';
import { bundleToJSON, toDSSEBundle, toMessageSignatureBundle, type Bundle, type SerializedBundle } from '@sigstore/bundle';
import { dsse } from '@sigstore/core';
import { initializeCA, initializeTSA } from '@sigstore/mock';

/**
 * Test and benchmark support: a local Sigstore with its own Fulcio-like CA and RFC 3161 timestamp
 * authority (@sigstore/mock, keys generated at run time), signing bundles shaped like those of
 * GitHub Actions build provenance. Offline: no transparency log and no CT log (SCT) are used.
 */
export interface LocalSigstore {
  /** The trusted root (protobuf-specs JSON) that verifies this instance's bundles. */
  trustedRoot: Record<string, unknown>;
  ca: CA;
  tsa: TSA;
  /** A certified signing key, to sign several bundles with (as one CI job may). */
  issueSigner(options?: SignOptions): Promise<LocalSigner>;
  /** A CA with the same (trusted) key whose certificates are issued at `clock`: expired ones. */
  caAt(clock: Date): Promise<CA>;
  /** A DSSE bundle over an in-toto statement (SLSA provenance v1 unless overridden). */
  signProvenance(subjectDigest: string, options?: SignOptions & { statement?: Record<string, unknown> }): Promise<SerializedBundle>;
  /** A message-signature bundle over the artifact bytes (as `cosign sign-blob` makes). */
  signMessage(artifact: Buffer, options?: SignOptions): Promise<SerializedBundle>;
}

export interface LocalSigner {
  certificate: Buffer;
  key: KeyObject;
}

type CA = Awaited<ReturnType<typeof initializeCA>>;
/** The mock TSA and the clock it reads (a Date the instance moves forward before each stamp). */
export interface TSA {
  authority: Awaited<ReturnType<typeof initializeTSA>>;
  clock: Date;
  fixed: boolean;
}

export interface SignOptions {
  san?: string;
  issuer?: string;
  /** Fulcio extensions by OID; `undefined` leaves one out. Defaults: GitHub Actions' (see FULCIO_OIDS). */
  extensions?: Record<string, string | undefined>;
  /** Another CA (an untrusted root). */
  ca?: CA;
  /** Another timestamp authority, or null for none. */
  tsa?: TSA | null;
  /** Sign with a key other than the certified one. */
  foreignKey?: boolean;
  /** Sign with this certified key instead of certifying a new one. */
  signer?: LocalSigner;
}

export const GITHUB_ISSUER = 'https://token.actions.githubusercontent.com';
export const WORKFLOW = 'https://github.com/acme/agent/.github/workflows/release.yml@refs/heads/main';
export const REPOSITORY = 'https://github.com/acme/agent';
export const BUILDER_ID = 'https://github.com/actions/runner/github-hosted';
const SLSA_PROVENANCE_V1 = 'https://slsa.dev/provenance/v1';
const STATEMENT_V1 = 'https://in-toto.io/Statement/v1';

/** Fulcio certificate extensions (docs/oid-info.md of sigstore/fulcio). */
export const FULCIO_OIDS = {
  issuerV1: '1.3.6.1.4.1.57264.1.1',
  issuer: '1.3.6.1.4.1.57264.1.8',
  buildSignerUri: '1.3.6.1.4.1.57264.1.9',
  runnerEnvironment: '1.3.6.1.4.1.57264.1.11',
  sourceRepositoryUri: '1.3.6.1.4.1.57264.1.12',
  buildConfigUri: '1.3.6.1.4.1.57264.1.18',
} as const;

const SHA256_OID = '2.16.840.1.101.3.4.2.1';
const IN_TOTO = 'application/vnd.in-toto+json';

/**
 * @param clock fixes the CA's and the TSA's time (benchmarks sign for longer than a certificate lives).
 *
 * @example
 * const sigstore = await startLocalSigstore();
 * writeFileSync(trustedRootFile, JSON.stringify(sigstore.trustedRoot));
 * const bundle = await sigstore.signProvenance('sha256:…');
 */
export async function startLocalSigstore(clock?: Date): Promise<LocalSigstore> {
  const caKeys = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const ca = await initializeCA(caKeys, undefined, clock);
  const tsa = await startTsa(clock && new Date(clock.getTime() + 1000));
  const start = new Date(Date.now() - 60_000).toISOString();
  const trustedRoot = {
    mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
    tlogs: [],
    ctlogs: [],
    certificateAuthorities: [authority('sigstore', 'https://fulcio.local', [ca.rootCertificate], start)],
    timestampAuthorities: [authority('tsa', 'https://tsa.local', [tsa.authority.intCertificate, tsa.authority.rootCertificate], start)],
  };
  return {
    trustedRoot,
    ca,
    tsa,
    caAt: (at) => initializeCA(caKeys, undefined, at),
    issueSigner: (options = {}) => certify(options.ca ?? ca, options),
    async signProvenance(subjectDigest, options = {}) {
      const statement = options.statement ?? provenanceStatement(subjectDigest);
      const payload = Buffer.from(JSON.stringify(statement));
      const signer = options.signer ?? (await certify(options.ca ?? ca, options));
      const signature = signBytes(null, dsse.preAuthEncoding(IN_TOTO, payload), signer.key);
      const bundle = toDSSEBundle({ artifact: payload, artifactType: IN_TOTO, signature, certificate: signer.certificate });
      return stamp(bundle, signature, options.tsa === undefined ? tsa : options.tsa);
    },
    async signMessage(artifact, options = {}) {
      const signer = options.signer ?? (await certify(options.ca ?? ca, options));
      const signature = signBytes('sha256', artifact, signer.key);
      const digest = createHash('sha256').update(artifact).digest();
      const bundle = toMessageSignatureBundle({ digest, signature, certificate: signer.certificate });
      return stamp(bundle, signature, options.tsa === undefined ? tsa : options.tsa);
    },
  };
}

/**
 * An in-toto Statement v1 with a SLSA provenance v1 predicate, as GitHub's attest-build-provenance writes it.
 *
 * @example
 * const statement = { ...provenanceStatement(digest), predicateType: 'https://slsa.dev/provenance/v0.2' };
 */
export function provenanceStatement(subjectDigest: string): Record<string, unknown> {
  return {
    _type: STATEMENT_V1,
    subject: [{ name: 'agent.tgz', digest: { sha256: subjectDigest.replace(/^sha256:/, '') } }],
    predicateType: SLSA_PROVENANCE_V1,
    predicate: {
      buildDefinition: {
        buildType: 'https://actions.github.io/buildtypes/workflow/v1',
        externalParameters: { workflow: { ref: 'refs/heads/main', repository: REPOSITORY, path: '.github/workflows/release.yml' } },
        internalParameters: { github: { event_name: 'push', repository_id: '731337001', runner_environment: 'github-hosted' } },
        resolvedDependencies: [{ uri: `git+${REPOSITORY}@refs/heads/main`, digest: { gitCommit: 'a'.repeat(40) } }],
      },
      runDetails: { builder: { id: BUILDER_ID }, metadata: { invocationId: `${REPOSITORY}/actions/runs/9876543210/attempts/1` } },
    },
  };
}

async function certify(ca: CA, options: SignOptions): Promise<LocalSigner> {
  const keys = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const defaults = {
    [FULCIO_OIDS.issuer]: options.issuer ?? GITHUB_ISSUER,
    [FULCIO_OIDS.buildSignerUri]: WORKFLOW,
    [FULCIO_OIDS.runnerEnvironment]: 'github-hosted',
    [FULCIO_OIDS.sourceRepositoryUri]: REPOSITORY,
    [FULCIO_OIDS.buildConfigUri]: WORKFLOW,
  };
  const extensions = Object.entries({ ...defaults, ...options.extensions })
    .filter((pair): pair is [string, string] => pair[1] !== undefined)
    .map(([oid, value]) => ({ oid, value, legacy: oid === FULCIO_OIDS.issuerV1 }));
  const publicKey = keys.publicKey.export({ format: 'der', type: 'spki' });
  const certificate = await ca.issueCertificate({ publicKey, subjectAltName: options.san ?? WORKFLOW, extensions });
  const key = options.foreignKey ? generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey : keys.privateKey;
  return { certificate, key };
}

/** RFC 3161 countersignature over the signature bytes, as Sigstore clients request it. */
/**
 * The mock TSA writes genTime with milliseconds, trailing zeros dropped (`.5Z`), which
 * @sigstore/core's parser refuses (it expects three digits): its clock is kept at whole seconds
 * unless `keepMilliseconds` (to make such a timestamp).
 *
 * @example
 * const strangerTsa = await startTsa();
 * await sigstore.signProvenance(digest, { tsa: strangerTsa });
 */
export async function startTsa(fixedClock?: Date, keepMilliseconds = false): Promise<TSA> {
  const clock = new Date(keepMilliseconds && fixedClock ? fixedClock.getTime() : wholeSeconds(fixedClock?.getTime() ?? Date.now()));
  return { authority: await initializeTSA(generateKeyPairSync('ec', { namedCurve: 'P-256' }), clock), clock, fixed: fixedClock !== undefined };
}

const wholeSeconds = (ms: number) => Math.floor(ms / 1000) * 1000;

async function stamp(bundle: Bundle, signature: Buffer, tsa: TSA | null): Promise<SerializedBundle> {
  if (tsa !== null) {
    const artifactHash = createHash('sha256').update(signature).digest();
    if (!tsa.fixed) tsa.clock.setTime(wholeSeconds(Date.now()));
    const signedTimestamp = await tsa.authority.timestamp({ artifactHash, hashAlgorithmOID: SHA256_OID, nonce: randomInt(2 ** 31), policyOID: '1.3.6.1.4.1.57264.2' });
    bundle.verificationMaterial.timestampVerificationData = { rfc3161Timestamps: [{ signedTimestamp }] };
  } else bundle.verificationMaterial.timestampVerificationData = { rfc3161Timestamps: [] };
  return bundleToJSON(bundle);
}

function authority(commonName: string, uri: string, certificates: Buffer[], start: string) {
  return {
    subject: { organization: 'sigstore.mock', commonName },
    uri,
    certChain: { certificates: certificates.map((der) => ({ rawBytes: der.toString('base64') })) },
    validFor: { start },
  };
}
