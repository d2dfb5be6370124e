import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { SignJWT } from 'jose';
import type { EvidenceBinding } from '../../ports/attestor.ts';
import { evidenceAudience } from '../../services/challenge.ts';
import { createClusterSigner, WORKLOAD, type TokenOptions } from './cluster-signer.ts';
import { configSchema, create } from './index.ts';
import { startLocalCluster, type LocalCluster } from './local-cluster.ts';
import { createMemoryReplayCache } from '../memory-replay-cache.ts';

const dir = mkdtempSync(join(tmpdir(), 'mandate-k8s-'));
const jwksFile = join(dir, 'jwks.json');
let now = Date.now();
const clock = { now: () => now };
let cluster: LocalCluster;

before(async () => {
  cluster = await startLocalCluster(() => now);
  writeFileSync(jwksFile, JSON.stringify(cluster.jwks));
});
after(async () => {
  await cluster.close();
  rmSync(dir, { recursive: true, force: true });
});

function attestor(settings: Record<string, unknown> = { jwksFile }) {
  return create(configSchema.parse({ issuer: cluster.issuer, ...settings }), { replay: createMemoryReplayCache(), clock });
}

function binding(): EvidenceBinding {
  const nonce = randomBytes(40).toString('base64url');
  const jkt = randomBytes(32).toString('base64url');
  return { nonce, jkt, agentId: 'agt_AAAAAAAAAAAAAAAAAAAAAA', now, expectedAudience: evidenceAudience(nonce, jkt) };
}

const tokenFor = (b: EvidenceBinding, options: TokenOptions = {}) => cluster.sign({ audience: b.expectedAudience, ...options });
const seconds = (offset: number) => Math.floor(now / 1000) + offset;
const segments = (token: string) => token.split('.') as [string, string, string];
const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

const rejects = (promise: Promise<unknown>, code: string) =>
  assert.rejects(promise, (e: { code?: string }) => e.code === code || assert.fail(`expected ${code}, got ${e.code}: ${String(e)}`));

describe('accepted tokens', () => {
  test('a pod-bound token with the challenge audience affirms and emits who the cluster says runs', async () => {
    const b = binding();
    const token = await tokenFor(b);
    const result = await attestor().verify(token, b);
    assert.equal(result.attestor, 'k8s-sa-token');
    assert.equal(result.status, 'affirming');
    assert.deepEqual(result.claims, {
      iss: cluster.issuer,
      namespace: 'agents',
      serviceaccount: 'planner',
      serviceaccount_uid: WORKLOAD.serviceaccount.uid,
      pod: WORKLOAD.pod.name,
      pod_uid: WORKLOAD.pod.uid,
      node: 'worker-1',
    });
    assert.deepEqual(result.measured, []);
    assert.equal(result.evidenceDigest, createHash('sha256').update(token).digest('hex'));
    assert.equal(result.expiresAt, seconds(600) * 1000);
    assert.ok(!JSON.stringify(result).includes(segments(token)[2]), 'the raw token must not be kept');
  });

  test('keys through the issuer discovery document, fetched once for many tokens', async () => {
    const before = { ...cluster.fetches };
    const shared = attestor({ discovery: true });
    for (const alg of ['RS256', 'ES256', 'RS256'] as const) {
      const b = binding();
      assert.equal((await shared.verify(await tokenFor(b, { alg }), b)).status, 'affirming');
    }
    assert.deepEqual([cluster.fetches.discovery, cluster.fetches.jwks], [before.discovery + 1, before.jwks + 1]);
  });

  test('an ES256 token with keys from a configured jwksUri', async () => {
    const b = binding();
    assert.equal((await attestor({ jwksUri: cluster.jwksUri }).verify(await tokenFor(b, { alg: 'ES256' }), b)).status, 'affirming');
  });

  test('a token bound to no pod emits no pod or node claims', async () => {
    const b = binding();
    const result = await attestor().verify(await tokenFor(b, { kubernetes: { pod: undefined, node: undefined } }), b);
    assert.deepEqual(Object.keys(result.claims).sort(), ['iss', 'namespace', 'serviceaccount', 'serviceaccount_uid']);
  });

  test("a projected volume's fixed audience allowed by config yields only warning (replayable evidence, PROTOCOL §3)", async () => {
    const b = binding();
    const result = await attestor({ jwksFile, allowFixedAudience: 'mandate' }).verify(await tokenFor(b, { audience: 'mandate' }), b);
    assert.equal(result.status, 'warning');
  });

  test('a namespace on the allow-list', async () => {
    const b = binding();
    assert.equal((await attestor({ jwksFile, namespaces: ['tools', 'agents'] }).verify(await tokenFor(b), b)).status, 'affirming');
  });
});

describe('rejections, one per check', () => {
  test('evidence that is not a string (ERR_K8S_SA_TOKEN_MALFORMED)', async () => {
    await rejects(attestor().verify({ token: 'x' }, binding()), 'ERR_K8S_SA_TOKEN_MALFORMED');
  });

  test('a string that is not a JWT (ERR_K8S_SA_TOKEN_MALFORMED)', async () => {
    await rejects(attestor().verify('not.a.jwt', binding()), 'ERR_K8S_SA_TOKEN_MALFORMED');
  });

  test('a token over 16 KiB (ERR_K8S_SA_TOKEN_MALFORMED)', async () => {
    const b = binding();
    await rejects(attestor().verify(await tokenFor(b, { claims: { padding: 'x'.repeat(16_384) } }), b), 'ERR_K8S_SA_TOKEN_MALFORMED');
  });

  test('a token of another cluster issuer (ERR_K8S_SA_TOKEN_ISSUER)', async () => {
    const b = binding();
    await rejects(attestor().verify(await tokenFor(b, { claims: { iss: 'https://kubernetes.default.svc.cluster.local' } }), b), 'ERR_K8S_SA_TOKEN_ISSUER');
  });

  test('an algorithm the config does not allow (ERR_K8S_SA_TOKEN_ALG)', async () => {
    const b = binding();
    await rejects(attestor({ jwksFile, allowedAlgs: ['RS256'] }).verify(await tokenFor(b, { alg: 'ES256' }), b), 'ERR_K8S_SA_TOKEN_ALG');
  });

  test('an unsigned token, alg none (ERR_K8S_SA_TOKEN_ALG)', async () => {
    const b = binding();
    const [, payload] = segments(await tokenFor(b));
    await rejects(attestor().verify(`${encode({ alg: 'none' })}.${payload}.`, b), 'ERR_K8S_SA_TOKEN_ALG');
  });

  test("an HMAC token keyed with the cluster's public key, alg confusion (ERR_K8S_SA_TOKEN_ALG)", async () => {
    const b = binding();
    const rsa = cluster.jwks.keys.find((k) => k.kty === 'RSA')!;
    const [, payload] = segments(await tokenFor(b));
    const forged = await new SignJWT(JSON.parse(Buffer.from(payload, 'base64url').toString()))
      .setProtectedHeader({ alg: 'HS256', kid: rsa.kid! })
      .sign(new TextEncoder().encode(JSON.stringify(rsa)));
    await rejects(attestor().verify(forged, b), 'ERR_K8S_SA_TOKEN_ALG');
  });

  test('an access token, typ at+jwt (ERR_K8S_SA_TOKEN_TYP)', async () => {
    const b = binding();
    await rejects(attestor().verify(await tokenFor(b, { typ: 'at+jwt' }), b), 'ERR_K8S_SA_TOKEN_TYP');
  });

  test('cluster keys unreachable (ERR_K8S_SA_TOKEN_KEYS_UNAVAILABLE)', async () => {
    const b = binding();
    const token = await tokenFor(b);
    cluster.failing = true;
    try {
      await rejects(attestor({ discovery: true }).verify(token, b), 'ERR_K8S_SA_TOKEN_KEYS_UNAVAILABLE');
    } finally {
      cluster.failing = false;
    }
  });

  test('forged: signed by a key the cluster does not publish, under its kid (ERR_K8S_SA_TOKEN_SIGNATURE)', async () => {
    const b = binding();
    await rejects(attestor().verify(await tokenFor(b, { foreignKey: true }), b), 'ERR_K8S_SA_TOKEN_SIGNATURE');
  });

  test('untrusted root: a token of another cluster using the same issuer name (ERR_K8S_SA_TOKEN_SIGNATURE)', async () => {
    const b = binding();
    const other = await createClusterSigner(cluster.issuer, () => now);
    await rejects(attestor().verify(await other.sign({ audience: b.expectedAudience }), b), 'ERR_K8S_SA_TOKEN_SIGNATURE');
  });

  test('claims altered after signing: the namespace raised to kube-system (ERR_K8S_SA_TOKEN_SIGNATURE)', async () => {
    const b = binding();
    const [header, payload, signature] = segments(await tokenFor(b));
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
    claims['kubernetes.io'].namespace = 'kube-system';
    claims.sub = 'system:serviceaccount:kube-system:planner';
    await rejects(attestor().verify(`${header}.${encode(claims)}.${signature}`, b), 'ERR_K8S_SA_TOKEN_SIGNATURE');
  });

  test('a tampered signature (ERR_K8S_SA_TOKEN_SIGNATURE)', async () => {
    const b = binding();
    const [header, payload, signature] = segments(await tokenFor(b));
    const bytes = Buffer.from(signature, 'base64url');
    bytes[0] = (bytes[0] ?? 0) ^ 0xff;
    await rejects(attestor().verify(`${header}.${payload}.${bytes.toString('base64url')}`, b), 'ERR_K8S_SA_TOKEN_SIGNATURE');
  });

  test('exp past the skew (ERR_K8S_SA_TOKEN_EXPIRED)', async () => {
    const b = binding();
    await rejects(attestor().verify(await tokenFor(b, { claims: { exp: seconds(-31) } }), b), 'ERR_K8S_SA_TOKEN_EXPIRED');
  });

  test('a kube-api-access token past its warnafter, though its extended exp is a year away (ERR_K8S_SA_TOKEN_EXPIRED)', async () => {
    const b = binding();
    const token = await tokenFor(b, { claims: { iat: seconds(-4000), nbf: seconds(-4000), exp: seconds(365 * 86_400) }, kubernetes: { warnafter: seconds(-393) } });
    await rejects(attestor().verify(token, b), 'ERR_K8S_SA_TOKEN_EXPIRED');
  });

  test('nbf beyond the skew (ERR_K8S_SA_TOKEN_NOT_YET_VALID)', async () => {
    const b = binding();
    await rejects(attestor().verify(await tokenFor(b, { claims: { nbf: seconds(60) } }), b), 'ERR_K8S_SA_TOKEN_NOT_YET_VALID');
  });

  test('no iat (ERR_K8S_SA_TOKEN_IAT)', async () => {
    const b = binding();
    await rejects(attestor().verify(await tokenFor(b, { claims: { iat: undefined } }), b), 'ERR_K8S_SA_TOKEN_IAT');
  });

  test("the API server's default audience instead of the challenge's (ERR_K8S_SA_TOKEN_AUDIENCE)", async () => {
    const b = binding();
    await rejects(attestor().verify(await tokenFor(b, { audience: cluster.issuer }), b), 'ERR_K8S_SA_TOKEN_AUDIENCE');
  });

  test('a token requested for another nonce (ERR_K8S_SA_TOKEN_AUDIENCE)', async () => {
    const b = binding();
    const otherNonce = { ...b, expectedAudience: evidenceAudience(randomBytes(40).toString('base64url'), b.jkt) };
    await rejects(attestor().verify(await tokenFor(otherNonce), b), 'ERR_K8S_SA_TOKEN_AUDIENCE');
  });

  test('a fixed audience the config does not allow (ERR_K8S_SA_TOKEN_AUDIENCE)', async () => {
    const b = binding();
    await rejects(attestor().verify(await tokenFor(b, { audience: 'mandate' }), b), 'ERR_K8S_SA_TOKEN_AUDIENCE');
  });

  test('a cluster-signed token without the kubernetes.io block (ERR_K8S_SA_TOKEN_NOT_SERVICE_ACCOUNT)', async () => {
    const b = binding();
    await rejects(attestor().verify(await tokenFor(b, { claims: { 'kubernetes.io': undefined } }), b), 'ERR_K8S_SA_TOKEN_NOT_SERVICE_ACCOUNT');
  });

  test('a sub naming another account than the kubernetes.io block (ERR_K8S_SA_TOKEN_NOT_SERVICE_ACCOUNT)', async () => {
    const b = binding();
    await rejects(attestor().verify(await tokenFor(b, { claims: { sub: 'system:serviceaccount:agents:deployer' } }), b), 'ERR_K8S_SA_TOKEN_NOT_SERVICE_ACCOUNT');
  });

  test('a namespace not on the allow-list (ERR_K8S_SA_TOKEN_NAMESPACE)', async () => {
    const b = binding();
    await rejects(attestor({ jwksFile, namespaces: ['agents'] }).verify(await tokenFor(b, { kubernetes: { namespace: 'default' } }), b), 'ERR_K8S_SA_TOKEN_NAMESPACE');
  });

  test('a fixed-audience token presented twice (ERR_K8S_SA_TOKEN_REPLAYED)', async () => {
    const verifier = attestor({ jwksFile, allowFixedAudience: 'mandate' });
    const token = await cluster.sign({ audience: 'mandate' });
    await verifier.verify(token, binding());
    await rejects(verifier.verify(token, binding()), 'ERR_K8S_SA_TOKEN_REPLAYED');
  });
});

describe('config', () => {
  test('exactly one trust source', () => {
    assert.throws(() => configSchema.parse({ issuer: 'https://k8s.example' }), /exactly one of discovery, jwksUri, jwksFile, tokenReview/);
    assert.throws(() => configSchema.parse({ issuer: 'https://k8s.example', discovery: true, jwksFile }), /exactly one/);
  });

  test('discovery needs an https issuer; a file or TokenReview does not', () => {
    assert.throws(() => configSchema.parse({ issuer: 'kubernetes/serviceaccount', discovery: true }), /https issuer/);
    assert.doesNotThrow(() => configSchema.parse({ issuer: 'kubernetes/serviceaccount', jwksFile }));
  });

  test('alg none and HMAC cannot be allowed; namespaces must be namespace names', () => {
    assert.throws(() => configSchema.parse({ issuer: cluster.issuer, jwksFile, allowedAlgs: ['HS256'] }));
    assert.throws(() => configSchema.parse({ issuer: cluster.issuer, jwksFile, allowedAlgs: ['none'] }));
    assert.throws(() => configSchema.parse({ issuer: cluster.issuer, jwksFile, namespaces: ['Agents!'] }));
  });
});
