import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { SerializedBundle } from '@sigstore/bundle';
import type { EvidenceBinding } from '../../ports/attestor.ts';
import { configSchema, create } from './index.ts';
import {
  FULCIO_OIDS,
  GITHUB_ISSUER,
  provenanceStatement,
  REPOSITORY,
  startLocalSigstore,
  startTsa,
  WORKFLOW,
  type LocalSigstore,
} from './local-sigstore.ts';

const dir = mkdtempSync(join(tmpdir(), 'mandate-sigstore-'));
const trustedRootFile = join(dir, 'trusted_root.json');
let sigstore: LocalSigstore;
/** Another Sigstore: its CA and TSA are not in the trusted root. */
let stranger: LocalSigstore;

before(async () => {
  [sigstore, stranger] = await Promise.all([startLocalSigstore(), startLocalSigstore()]);
  writeFileSync(trustedRootFile, JSON.stringify(sigstore.trustedRoot));
});
after(() => rmSync(dir, { recursive: true, force: true }));

// No transparency or CT log offline (the mock CA issues no SCT): the tests set both thresholds to 0.
function attestor(config: Record<string, unknown> = {}) {
  const parsed = configSchema.parse({ trustedRootFile, identities: [{ san: WORKFLOW, issuer: GITHUB_ISSUER }], tlogThreshold: 0, ctlogThreshold: 0, ...config });
  return create(parsed, { replay: { checkAndInsert: async () => true, seen: async () => false, purgeExpired: async () => 0 }, clock: { now: Date.now } });
}

const binding: EvidenceBinding = { nonce: 'n', jkt: 'k', agentId: 'agt_AAAAAAAAAAAAAAAAAAAAAA', now: Date.now(), expectedAudience: 'mandate:x' };
const sha256 = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');
const randomDigest = () => `sha256:${randomBytes(32).toString('hex')}`;
/** A deep copy to alter. */
const copy = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

const rejects = (promise: Promise<unknown>, code: string) =>
  assert.rejects(promise, (e: { code?: string }) => e.code === code || assert.fail(`expected ${code}, got ${e.code}: ${String(e)}`));

/** A DSSE bundle whose statement is altered before signing. */
async function provenanceWith(change: (statement: Record<string, unknown>) => void, digest = randomDigest()): Promise<SerializedBundle> {
  const statement = provenanceStatement(digest);
  change(statement);
  return sigstore.signProvenance(digest, { statement });
}

describe('accepted bundles', () => {
  test('a DSSE bundle of SLSA provenance v1 affirms and emits digest, repository, workflow, builder, san, issuer', async () => {
    const digest = randomDigest();
    const evidence = { bundle: await sigstore.signProvenance(digest), artifactDigest: digest };
    const result = await attestor().verify(evidence, binding);
    assert.equal(result.status, 'affirming');
    assert.deepEqual(result.claims, { digest, repository: REPOSITORY, workflow: WORKFLOW, builder: WORKFLOW, san: WORKFLOW, issuer: GITHUB_ISSUER });
    assert.deepEqual(result.measured, []);
    assert.match(result.evidenceDigest, /^[0-9a-f]{64}$/);
    assert.equal(result.expiresAt, undefined);
  });

  test('a message-signature bundle verifies against the artifact digest (no artifact needed)', async () => {
    const artifact = randomBytes(4096);
    const evidence = { bundle: await sigstore.signMessage(artifact), artifactDigest: `sha256:${sha256(artifact)}` };
    const result = await attestor().verify(evidence, binding);
    assert.equal(result.status, 'affirming');
    assert.deepEqual(result.claims, { digest: `sha256:${sha256(artifact)}`, repository: REPOSITORY, workflow: WORKFLOW, builder: WORKFLOW, san: WORKFLOW, issuer: GITHUB_ISSUER });
  });

  test('the bundle alone, signing one subject, names its digest', async () => {
    const digest = randomDigest();
    assert.equal((await attestor().verify(await sigstore.signProvenance(digest), binding)).claims.digest, digest);
  });

  test('artifactDigest picks the running artifact among several subjects, in lower case', async () => {
    const [one, two] = [randomDigest(), randomDigest()];
    const bundle = await provenanceWith((s) => (s.subject = [{ name: 'a', digest: { sha256: one.slice(7) } }, { name: 'b', digest: { sha256: two.slice(7) } }]));
    const result = await attestor().verify({ bundle, artifactDigest: two.toUpperCase().replace('SHA256', 'sha256') }, binding);
    assert.equal(result.claims.digest, two);
  });

  test('without the CA\'s extensions, repository and workflow come from the predicate', async () => {
    const digest = randomDigest();
    const extensions = { [FULCIO_OIDS.sourceRepositoryUri]: undefined, [FULCIO_OIDS.buildConfigUri]: undefined };
    const result = await attestor().verify(await sigstore.signProvenance(digest, { extensions }), binding);
    assert.equal(result.claims.repository, REPOSITORY);
    assert.equal(result.claims.workflow, WORKFLOW);
  });

  test('a SAN pattern matching the whole SAN, and the legacy issuer extension (1.3.6.1.4.1.57264.1.1)', async () => {
    const extensions = { [FULCIO_OIDS.issuer]: undefined, [FULCIO_OIDS.issuerV1]: GITHUB_ISSUER };
    const bundle = await sigstore.signProvenance(randomDigest(), { extensions });
    const verifier = attestor({ identities: [{ sanRegExp: 'https://github\\.com/acme/agent/.+@refs/heads/main', issuer: GITHUB_ISSUER }] });
    assert.equal((await verifier.verify(bundle, binding)).claims.issuer, GITHUB_ISSUER);
  });
});

describe('rejections, one per check', () => {
  test('evidence that is not an object (ERR_SIGSTORE_BUNDLE_MALFORMED)', () => rejects(attestor().verify('bundle', binding), 'ERR_SIGSTORE_BUNDLE_MALFORMED'));

  test('evidence over the size limit (ERR_SIGSTORE_BUNDLE_MALFORMED)', async () => {
    const bundle = { ...(await sigstore.signProvenance(randomDigest())), padding: 'x'.repeat(140_000) };
    await rejects(attestor().verify(bundle, binding), 'ERR_SIGSTORE_BUNDLE_MALFORMED');
  });

  test('a wrong mediaType (ERR_SIGSTORE_BUNDLE_MALFORMED)', async () => {
    const bundle = { ...(await sigstore.signProvenance(randomDigest())), mediaType: 'application/json' };
    await rejects(attestor().verify(bundle, binding), 'ERR_SIGSTORE_BUNDLE_MALFORMED');
  });

  test('a bundle without verification material (ERR_SIGSTORE_BUNDLE_MALFORMED)', async () => {
    const { verificationMaterial, ...bundle } = await sigstore.signProvenance(randomDigest());
    void verificationMaterial;
    await rejects(attestor().verify(bundle, binding), 'ERR_SIGSTORE_BUNDLE_MALFORMED');
  });

  test('a certificate that is not DER (ERR_SIGSTORE_BUNDLE_MALFORMED)', async () => {
    const bundle = copy(await sigstore.signProvenance(randomDigest()));
    bundle.verificationMaterial.certificate = { rawBytes: Buffer.from('not a certificate').toString('base64') };
    await rejects(attestor().verify(bundle, binding), 'ERR_SIGSTORE_BUNDLE_MALFORMED');
  });

  test('an RFC 3161 genTime with a short fraction (12.5Z) that the parser refuses (ERR_SIGSTORE_BUNDLE_MALFORMED)', async () => {
    const tsa = await startTsa(new Date(Math.floor(Date.now() / 1000) * 1000 + 500), true);
    await rejects(attestor().verify(await sigstore.signProvenance(randomDigest(), { tsa }), binding), 'ERR_SIGSTORE_BUNDLE_MALFORMED');
  });

  test('an artifactDigest that is not sha256:<64 hex>, or extra members (ERR_SIGSTORE_BUNDLE_MALFORMED)', async () => {
    const bundle = await sigstore.signProvenance(randomDigest());
    await rejects(attestor().verify({ bundle, artifactDigest: 'sha1:abc' }, binding), 'ERR_SIGSTORE_BUNDLE_MALFORMED');
    await rejects(attestor().verify({ bundle, path: '/bin/agent' }, binding), 'ERR_SIGSTORE_BUNDLE_MALFORMED');
  });

  test('a bare public key instead of a certificate (ERR_SIGSTORE_UNSUPPORTED_CONTENT)', async () => {
    const bundle = copy(await sigstore.signProvenance(randomDigest()));
    delete bundle.verificationMaterial.certificate;
    bundle.verificationMaterial.publicKey = { hint: 'release-key' };
    await rejects(attestor().verify(bundle, binding), 'ERR_SIGSTORE_UNSUPPORTED_CONTENT');
  });

  test('a DSSE payload that is not in-toto (ERR_SIGSTORE_UNSUPPORTED_CONTENT)', async () => {
    const bundle = copy(await sigstore.signProvenance(randomDigest()));
    bundle.dsseEnvelope!.payloadType = 'application/vnd.cncf.notary.payload.v1+json';
    await rejects(attestor().verify(bundle, binding), 'ERR_SIGSTORE_UNSUPPORTED_CONTENT');
  });

  test('a message digest other than SHA-256 (ERR_SIGSTORE_UNSUPPORTED_CONTENT)', async () => {
    const bundle = copy(await sigstore.signMessage(randomBytes(64)));
    bundle.messageSignature!.messageDigest = { algorithm: 'SHA2_512', digest: randomBytes(64).toString('base64') };
    await rejects(attestor().verify(bundle, binding), 'ERR_SIGSTORE_UNSUPPORTED_CONTENT');
  });

  test('no signed timestamp at all (ERR_SIGSTORE_TIMESTAMP_MISSING)', async () => {
    await rejects(attestor().verify(await sigstore.signProvenance(randomDigest(), { tsa: null }), binding), 'ERR_SIGSTORE_TIMESTAMP_MISSING');
  });

  test('a timestamp by an authority not in the trusted root (ERR_SIGSTORE_TIMESTAMP_INVALID)', async () => {
    await rejects(attestor().verify(await sigstore.signProvenance(randomDigest(), { tsa: stranger.tsa }), binding), 'ERR_SIGSTORE_TIMESTAMP_INVALID');
  });

  test('signature bytes altered: the timestamp no longer covers them (ERR_SIGSTORE_TIMESTAMP_INVALID)', async () => {
    const bundle = copy(await sigstore.signProvenance(randomDigest()));
    const signature = Buffer.from(bundle.dsseEnvelope!.signatures[0]!.sig, 'base64');
    signature[signature.length - 1]! ^= 1;
    bundle.dsseEnvelope!.signatures[0]!.sig = signature.toString('base64');
    await rejects(attestor().verify(bundle, binding), 'ERR_SIGSTORE_TIMESTAMP_INVALID');
  });

  test('a certificate from another CA: untrusted root (ERR_SIGSTORE_CERTIFICATE_UNTRUSTED)', async () => {
    await rejects(attestor().verify(await sigstore.signProvenance(randomDigest(), { ca: stranger.ca }), binding), 'ERR_SIGSTORE_CERTIFICATE_UNTRUSTED');
  });

  test('a certificate expired at the signed time (ERR_SIGSTORE_CERTIFICATE_UNTRUSTED)', async () => {
    const ca = await sigstore.caAt(new Date(Date.now() - 3_600_000));
    await rejects(attestor().verify(await sigstore.signProvenance(randomDigest(), { ca }), binding), 'ERR_SIGSTORE_CERTIFICATE_UNTRUSTED');
  });

  test('a certificate without the SCT ctlogThreshold requires (ERR_SIGSTORE_CERTIFICATE_UNTRUSTED)', async () => {
    await rejects(attestor({ ctlogThreshold: 1 }).verify(await sigstore.signProvenance(randomDigest()), binding), 'ERR_SIGSTORE_CERTIFICATE_UNTRUSTED');
  });

  test('no transparency log entry where tlogThreshold requires one (ERR_SIGSTORE_TLOG_INVALID)', async () => {
    await rejects(attestor({ tlogThreshold: 1 }).verify(await sigstore.signProvenance(randomDigest()), binding), 'ERR_SIGSTORE_TLOG_INVALID');
  });

  test('the statement altered after signing (ERR_SIGSTORE_SIGNATURE_INVALID)', async () => {
    const digest = randomDigest();
    const bundle = copy(await sigstore.signProvenance(digest));
    const forged = Buffer.from(JSON.stringify(provenanceStatement(randomDigest())));
    bundle.dsseEnvelope!.payload = forged.toString('base64');
    await rejects(attestor().verify(bundle, binding), 'ERR_SIGSTORE_SIGNATURE_INVALID');
  });

  test('signed by a key other than the certified one: forged (ERR_SIGSTORE_SIGNATURE_INVALID)', async () => {
    await rejects(attestor().verify(await sigstore.signProvenance(randomDigest(), { foreignKey: true }), binding), 'ERR_SIGSTORE_SIGNATURE_INVALID');
  });

  test('a message digest altered in the bundle (ERR_SIGSTORE_SIGNATURE_INVALID)', async () => {
    const bundle = copy(await sigstore.signMessage(randomBytes(64)));
    const other = randomBytes(32);
    bundle.messageSignature!.messageDigest!.digest = other.toString('base64');
    await rejects(attestor().verify({ bundle, artifactDigest: `sha256:${other.toString('hex')}` }, binding), 'ERR_SIGSTORE_SIGNATURE_INVALID');
  });

  test('a signer that is not an accepted identity (ERR_SIGSTORE_SAN_MISMATCH)', async () => {
    const san = 'https://github.com/mallory/agent/.github/workflows/release.yml@refs/heads/main';
    await rejects(attestor().verify(await sigstore.signProvenance(randomDigest(), { san }), binding), 'ERR_SIGSTORE_SAN_MISMATCH');
  });

  test('a SAN pattern is anchored: a longer SAN that contains a match (ERR_SIGSTORE_SAN_MISMATCH)', async () => {
    const verifier = attestor({ identities: [{ sanRegExp: 'https://github\\.com/acme/agent/.+@refs/heads/main', issuer: GITHUB_ISSUER }] });
    const san = `${WORKFLOW}-evil`;
    await rejects(verifier.verify(await sigstore.signProvenance(randomDigest(), { san }), binding), 'ERR_SIGSTORE_SAN_MISMATCH');
  });

  test('the right SAN certified for another OIDC issuer (ERR_SIGSTORE_ISSUER_MISMATCH)', async () => {
    const bundle = await sigstore.signProvenance(randomDigest(), { issuer: 'https://gitlab.com' });
    await rejects(attestor().verify(bundle, binding), 'ERR_SIGSTORE_ISSUER_MISMATCH');
  });

  test('an in-toto Statement v0.1 (ERR_SIGSTORE_STATEMENT_TYPE)', async () => {
    const bundle = await provenanceWith((s) => (s._type = 'https://in-toto.io/Statement/v0.1'));
    await rejects(attestor().verify(bundle, binding), 'ERR_SIGSTORE_STATEMENT_TYPE');
  });

  test('a predicate type not configured: SLSA v0.2 (ERR_SIGSTORE_PREDICATE_TYPE)', async () => {
    const bundle = await provenanceWith((s) => (s.predicateType = 'https://slsa.dev/provenance/v0.2'));
    await rejects(attestor().verify(bundle, binding), 'ERR_SIGSTORE_PREDICATE_TYPE');
  });

  test('subjects with no sha256 digest (ERR_SIGSTORE_SUBJECT_DIGEST_MISSING)', async () => {
    const bundle = await provenanceWith((s) => (s.subject = [{ name: 'agent.tgz', digest: { sha512: randomBytes(64).toString('hex') } }]));
    await rejects(attestor().verify(bundle, binding), 'ERR_SIGSTORE_SUBJECT_DIGEST_MISSING');
  });

  test('several subjects and no artifactDigest to choose one (ERR_SIGSTORE_ARTIFACT_DIGEST)', async () => {
    const bundle = await provenanceWith((s) => (s.subject = [randomDigest(), randomDigest()].map((d, i) => ({ name: `${i}`, digest: { sha256: d.slice(7) } }))));
    await rejects(attestor().verify(bundle, binding), 'ERR_SIGSTORE_ARTIFACT_DIGEST');
  });

  test('an artifactDigest the bundle does not sign (ERR_SIGSTORE_ARTIFACT_DIGEST)', async () => {
    const bundle = await sigstore.signMessage(randomBytes(64));
    await rejects(attestor().verify({ bundle, artifactDigest: randomDigest() }, binding), 'ERR_SIGSTORE_ARTIFACT_DIGEST');
  });
});

describe('config', () => {
  test('an identity needs exactly one of san and sanRegExp, and a valid pattern', () => {
    const parse = (identity: Record<string, unknown>) => configSchema.parse({ trustedRootFile, identities: [{ issuer: GITHUB_ISSUER, ...identity }] });
    assert.throws(() => parse({}), /exactly one of san, sanRegExp/);
    assert.throws(() => parse({ san: WORKFLOW, sanRegExp: '.*' }), /exactly one of san, sanRegExp/);
    assert.throws(() => parse({ sanRegExp: '(' }), /regular expression/);
  });

  test('defaults: SLSA provenance v1 only, one tlog entry, one SCT, one timestamp', () => {
    const config = configSchema.parse({ trustedRootFile, identities: [{ san: WORKFLOW, issuer: GITHUB_ISSUER }] });
    assert.deepEqual(config.predicateTypes, ['https://slsa.dev/provenance/v1']);
    assert.deepEqual([config.tlogThreshold, config.ctlogThreshold, config.timestampThreshold], [1, 1, 1]);
  });

  test('a missing or foreign trusted root stops start-up with its path', () => {
    const foreign = join(dir, 'not-a-root.json');
    writeFileSync(foreign, JSON.stringify({ keys: [] }));
    assert.throws(() => attestor({ trustedRootFile: join(dir, 'absent.json') }), /absent\.json/);
    assert.throws(() => attestor({ trustedRootFile: foreign }), /not a Sigstore trusted root/);
  });
});
