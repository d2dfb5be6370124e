import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { EvidenceBinding } from '../../ports/attestor.ts';
import { evidenceAudience } from '../../services/challenge.ts';
import { createClusterSigner, WORKLOAD, type TokenOptions } from './cluster-signer.ts';
import { configSchema, create } from './index.ts';
import { startLocalCluster, type LocalCluster } from './local-cluster.ts';
import { createMemoryReplayCache } from '../memory-replay-cache.ts';

const dir = mkdtempSync(join(tmpdir(), 'mandate-k8s-review-'));
const bearerTokenFile = join(dir, 'token');
let now = Date.now();
const clock = { now: () => now };
let cluster: LocalCluster;

before(async () => {
  cluster = await startLocalCluster(() => now);
  writeFileSync(bearerTokenFile, `${cluster.reviewerToken}\n`);
});
after(async () => {
  await cluster.close();
  rmSync(dir, { recursive: true, force: true });
});

function attestor(settings: Record<string, unknown> = {}, url = cluster.url) {
  const config = configSchema.parse({ issuer: cluster.issuer, tokenReview: { url, bearerTokenFile }, ...settings });
  return create(config, { replay: createMemoryReplayCache(), clock });
}

function binding(): EvidenceBinding {
  const nonce = randomBytes(40).toString('base64url');
  const jkt = randomBytes(32).toString('base64url');
  return { nonce, jkt, agentId: 'agt_AAAAAAAAAAAAAAAAAAAAAA', now, expectedAudience: evidenceAudience(nonce, jkt) };
}

const tokenFor = (b: EvidenceBinding, options: TokenOptions = {}) => cluster.sign({ audience: b.expectedAudience, ...options });

const rejects = (promise: Promise<unknown>, code: string) =>
  assert.rejects(promise, (e: { code?: string }) => e.code === code || assert.fail(`expected ${code}, got ${e.code}: ${String(e)}`));

/** Flips one switch of the local API server for the duration of one call. */
async function withCluster<T>(change: Partial<Pick<LocalCluster, 'failing' | 'audienceUnaware' | 'impersonate'>>, run: () => Promise<T>): Promise<T> {
  const saved = { failing: cluster.failing, audienceUnaware: cluster.audienceUnaware, impersonate: cluster.impersonate };
  Object.assign(cluster, change);
  try {
    return await run();
  } finally {
    Object.assign(cluster, saved);
  }
}

describe('accepted through TokenReview', () => {
  test('a pod-bound token the API server authenticates for the challenge audience affirms', async () => {
    const b = binding();
    const reviews = cluster.fetches.reviews;
    const result = await attestor().verify(await tokenFor(b), b);
    assert.equal(result.status, 'affirming');
    assert.equal(result.claims.pod_uid, WORKLOAD.pod.uid);
    assert.equal(result.claims.serviceaccount, 'planner');
    assert.equal(cluster.fetches.reviews, reviews + 1);
    assert.equal(cluster.fetches.jwks, 0, 'no keys are fetched in TokenReview mode');
  });

  test('a fixed audience the API server confirms yields only warning', async () => {
    const b = binding();
    assert.equal((await attestor({ allowFixedAudience: 'mandate' }).verify(await tokenFor(b, { audience: 'mandate' }), b)).status, 'warning');
  });

  test('an https API server whose certificate is checked against caFile', async () => {
    const key = join(dir, 'tls.key');
    const cert = join(dir, 'tls.crt');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1',
      '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', key, '-out', cert], { stdio: 'ignore' });
    const tls = await startLocalCluster(() => now, { key: readFileSync(key, 'utf8'), cert: readFileSync(cert, 'utf8') });
    try {
      writeFileSync(join(dir, 'tls-token'), tls.reviewerToken);
      const config = configSchema.parse({ issuer: tls.issuer, tokenReview: { url: tls.url, bearerTokenFile: join(dir, 'tls-token'), caFile: cert } });
      const b = binding();
      const result = await create(config, { replay: createMemoryReplayCache(), clock }).verify(await tls.sign({ audience: b.expectedAudience }), b);
      assert.equal(result.status, 'affirming');
    } finally {
      await tls.close();
    }
  });
});

describe('rejections by the API server', () => {
  test('forged: signed by a key the cluster does not hold (ERR_K8S_SA_TOKEN_REVIEW_UNAUTHENTICATED)', async () => {
    const b = binding();
    await rejects(attestor().verify(await tokenFor(b, { foreignKey: true }), b), 'ERR_K8S_SA_TOKEN_REVIEW_UNAUTHENTICATED');
  });

  test('a tampered signature (ERR_K8S_SA_TOKEN_REVIEW_UNAUTHENTICATED)', async () => {
    const b = binding();
    const [header, payload, signature] = (await tokenFor(b)).split('.') as [string, string, string];
    const bytes = Buffer.from(signature, 'base64url');
    bytes[0] = (bytes[0] ?? 0) ^ 0xff;
    await rejects(attestor().verify(`${header}.${payload}.${bytes.toString('base64url')}`, b), 'ERR_K8S_SA_TOKEN_REVIEW_UNAUTHENTICATED');
  });

  test('untrusted root: a token of another cluster using the same issuer name (ERR_K8S_SA_TOKEN_REVIEW_UNAUTHENTICATED)', async () => {
    const b = binding();
    const other = await createClusterSigner(cluster.issuer, () => now);
    await rejects(attestor().verify(await other.sign({ audience: b.expectedAudience }), b), 'ERR_K8S_SA_TOKEN_REVIEW_UNAUTHENTICATED');
  });

  test('the pod the token is bound to was deleted (ERR_K8S_SA_TOKEN_REVIEW_UNAUTHENTICATED)', async () => {
    const b = binding();
    const token = await tokenFor(b, { kubernetes: { pod: { name: 'planner-gone', uid: WORKLOAD.pod.uid } } });
    cluster.deletedPods.add('planner-gone');
    await rejects(attestor().verify(token, b), 'ERR_K8S_SA_TOKEN_REVIEW_UNAUTHENTICATED');
  });

  test('an audience-unaware authenticator confirms no audience (ERR_K8S_SA_TOKEN_REVIEW_AUDIENCE)', async () => {
    const b = binding();
    const token = await tokenFor(b);
    await withCluster({ audienceUnaware: true }, () => rejects(attestor().verify(token, b), 'ERR_K8S_SA_TOKEN_REVIEW_AUDIENCE'));
  });

  test('the API server names another user than the token (ERR_K8S_SA_TOKEN_REVIEW_IDENTITY)', async () => {
    const b = binding();
    const token = await tokenFor(b);
    await withCluster({ impersonate: 'system:serviceaccount:kube-system:admin' }, () => rejects(attestor().verify(token, b), 'ERR_K8S_SA_TOKEN_REVIEW_IDENTITY'));
  });

  test('the API server answers 500 (ERR_K8S_SA_TOKEN_REVIEW_UNAVAILABLE), and the message carries no token', async () => {
    const b = binding();
    const token = await tokenFor(b);
    await withCluster({ failing: true }, () =>
      assert.rejects(attestor().verify(token, b), (e: { code?: string; message: string }) => e.code === 'ERR_K8S_SA_TOKEN_REVIEW_UNAVAILABLE' && !e.message.includes(token)),
    );
  });

  test("the broker's own bearer token is refused, 401 (ERR_K8S_SA_TOKEN_REVIEW_UNAVAILABLE)", async () => {
    const b = binding();
    const wrong = join(dir, 'wrong-token');
    writeFileSync(wrong, randomBytes(32).toString('base64url'));
    const config = configSchema.parse({ issuer: cluster.issuer, tokenReview: { url: cluster.url, bearerTokenFile: wrong } });
    await rejects(create(config, { replay: createMemoryReplayCache(), clock }).verify(await tokenFor(b), b), 'ERR_K8S_SA_TOKEN_REVIEW_UNAVAILABLE');
  });

  test('nothing listens at the API server URL (ERR_K8S_SA_TOKEN_REVIEW_UNAVAILABLE)', async () => {
    const b = binding();
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise((resolve) => closed.close(resolve));
    await rejects(attestor({}, `http://127.0.0.1:${port}`).verify(await tokenFor(b), b), 'ERR_K8S_SA_TOKEN_REVIEW_UNAVAILABLE');
  });

  test('an expired token is refused before the API server is asked (ERR_K8S_SA_TOKEN_EXPIRED)', async () => {
    const b = binding();
    const reviews = cluster.fetches.reviews;
    await rejects(attestor().verify(await tokenFor(b, { claims: { exp: Math.floor(now / 1000) - 60 } }), b), 'ERR_K8S_SA_TOKEN_EXPIRED');
    assert.equal(cluster.fetches.reviews, reviews);
  });

  test('a reviewed token presented again (ERR_K8S_SA_TOKEN_REPLAYED); a forgery with its jti had not burnt it', async () => {
    const verifier = attestor({ allowFixedAudience: 'mandate' });
    const token = await cluster.sign({ audience: 'mandate' });
    const jti = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()).jti;
    await rejects(verifier.verify(await cluster.sign({ audience: 'mandate', foreignKey: true, claims: { jti } }), binding()), 'ERR_K8S_SA_TOKEN_REVIEW_UNAUTHENTICATED');
    assert.equal((await verifier.verify(token, binding())).status, 'warning');
    await rejects(verifier.verify(token, binding()), 'ERR_K8S_SA_TOKEN_REPLAYED');
  });
});
