import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { ConfigurationError } from '../errors.ts';
import { loadSigstoreBundle, sigstoreEvidence } from './sigstore-bundle.ts';

const dir = mkdtempSync(join(tmpdir(), 'mandate-bundle-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const b64 = (bytes: number) => randomBytes(bytes).toString('base64');
/** The outer shape of a DSSE bundle, with random bytes where signatures and certificates go. */
const shapedBundle = (): Record<string, unknown> => ({
  mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
  verificationMaterial: { certificate: { rawBytes: b64(600) }, tlogEntries: [], timestampVerificationData: { rfc3161Timestamps: [{ signedTimestamp: b64(900) }] } },
  dsseEnvelope: { payload: b64(400), payloadType: 'application/vnd.in-toto+json', signatures: [{ sig: b64(72), keyid: '' }] },
});
const write = (name: string, content: unknown) => {
  const path = join(dir, name);
  writeFileSync(path, typeof content === 'string' || Buffer.isBuffer(content) ? content : JSON.stringify(content));
  return path;
};
const refuses = (path: string, message: RegExp) =>
  assert.rejects(loadSigstoreBundle(path), (e: Error) => e instanceof ConfigurationError && message.test(e.message) && e.message.includes(path));

test('a bundle file is read back as written', async () => {
  const bundle = shapedBundle();
  assert.deepEqual(await loadSigstoreBundle(write('agent.sigstore.json', bundle)), bundle);
});

test('message-signature bundles and the v0.1/v0.2 media types are accepted', async () => {
  const { dsseEnvelope, ...rest } = shapedBundle();
  void dsseEnvelope;
  const bundle = { ...rest, mediaType: 'application/vnd.dev.sigstore.bundle+json;version=0.2', messageSignature: { messageDigest: { algorithm: 'SHA2_256', digest: b64(32) }, signature: b64(72) } };
  assert.deepEqual(await loadSigstoreBundle(write('blob.sigstore.json', bundle)), bundle);
});

test('shape errors name the file and the problem', async () => {
  await refuses(write('not-json', '{'), /not JSON/);
  await refuses(write('array', []), /not a JSON object/);
  await refuses(write('media', { ...shapedBundle(), mediaType: 'application/json' }), /mediaType/);
  await refuses(write('material', { ...shapedBundle(), verificationMaterial: 'x' }), /verificationMaterial/);
  await refuses(write('both', { ...shapedBundle(), messageSignature: {} }), /exactly one of/);
  await refuses(write('large', { ...shapedBundle(), padding: 'x'.repeat(140_000) }), /larger than/);
  await refuses(join(dir, 'absent.json'), /cannot read/);
});

test('sigstoreEvidence pairs the bundle with the digest of the artifact', async () => {
  const artifact = randomBytes(1000);
  const bundle = shapedBundle();
  const item = await sigstoreEvidence({ bundle: write('app.sigstore.json', bundle), artifact: write('app.js', artifact) });
  assert.deepEqual(item, { attestor: 'sigstore', evidence: { bundle, artifactDigest: `sha256:${createHash('sha256').update(artifact).digest('hex')}` } });
});
