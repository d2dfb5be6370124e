import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { EvidenceBinding } from '../../ports/attestor.ts';
import { evidenceAudience } from '../../services/challenge.ts';
import { createSqliteStore, type SqliteStore } from '../../store/sqlite/index.ts';
import { configSchema, create } from './index.ts';
import { startLocalIssuer, type LocalIssuer } from './local-issuer.ts';

const dir = mkdtempSync(join(tmpdir(), 'mandate-oidc-'));
let now = Date.now();
const clock = { now: () => now };
let issuer: LocalIssuer;
let store: SqliteStore;

before(async () => {
  issuer = await startLocalIssuer(() => now);
  store = await createSqliteStore({ path: join(dir, 'oidc.db') });
});
after(async () => {
  await issuer.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

const CLAIMS = ['repository_id', 'repository_owner_id', 'job_workflow_ref', 'runner_environment', 'sub'];

function attestor(issuerConfig: Record<string, unknown> = {}) {
  const config = configSchema.parse({ issuers: [{ issuer: issuer.issuer, discovery: true, claims: CLAIMS, ...issuerConfig }] });
  return create(config, { replay: store.replay, clock });
}

function binding(): EvidenceBinding {
  const nonce = randomBytes(40).toString('base64url');
  const jkt = randomBytes(32).toString('base64url');
  return { nonce, jkt, agentId: 'agt_AAAAAAAAAAAAAAAAAAAAAA', now, expectedAudience: evidenceAudience(nonce, jkt) };
}

const tokenFor = (b: EvidenceBinding, claims: Record<string, unknown> = {}, options: Parameters<LocalIssuer['sign']>[1] = {}) =>
  issuer.sign({ aud: b.expectedAudience, ...claims }, options);

const rejects = (promise: Promise<unknown>, code: string) =>
  assert.rejects(promise, (e: { code?: string }) => e.code === code || assert.fail(`expected ${code}, got ${e.code}: ${String(e)}`));

describe('accepted tokens', () => {
  test('a GitHub Actions token bound to the challenge affirms and emits only the configured claims', async () => {
    const b = binding();
    const token = await tokenFor(b);
    const result = await attestor().verify(token, b);
    assert.equal(result.status, 'affirming');
    assert.deepEqual(Object.keys(result.claims).sort(), ['iss', ...CLAIMS].sort());
    assert.equal(result.claims.sub, 'repo:acme/agent:ref:refs/heads/main');
    assert.equal(result.claims.repository_id, '731337001');
    assert.match(String(result.claims.job_workflow_ref), /^acme\/workflows\/\.github\/workflows\/agent\.yml@[0-9a-f]{40}$/);
    assert.deepEqual(result.measured, []);
    assert.equal(result.evidenceDigest, createHash('sha256').update(token).digest('hex'));
    assert.equal(result.expiresAt, (Math.floor(now / 1000) + 300) * 1000);
    assert.ok(!JSON.stringify(result).includes(token.split('.')[2]!), 'the raw token must not be kept');
  });

  test('an ES256 token with keys from a configured jwksUri', async () => {
    const b = binding();
    const result = await attestor({ discovery: undefined, jwksUri: issuer.jwksUri }).verify(await tokenFor(b, {}, { alg: 'ES256' }), b);
    assert.equal(result.status, 'affirming');
  });

  test('keys from a local JWKS file', async () => {
    const file = join(dir, 'jwks.json');
    writeFileSync(file, JSON.stringify(issuer.jwks));
    const b = binding();
    assert.equal((await attestor({ discovery: undefined, jwksFile: file }).verify(await tokenFor(b), b)).status, 'affirming');
  });

  test('discovery and the JWKS are fetched once for many tokens', async () => {
    const before = { ...issuer.fetches };
    const shared = attestor();
    for (let i = 0; i < 5; i++) {
      const b = binding();
      await shared.verify(await tokenFor(b, {}, { alg: i % 2 === 0 ? 'RS256' : 'ES256' }), b);
    }
    assert.deepEqual(issuer.fetches, { discovery: before.discovery + 1, jwks: before.jwks + 1 });
  });

  test('an audience list that contains the bound audience', async () => {
    const b = binding();
    assert.equal((await attestor().verify(await tokenFor(b, { aud: ['other', b.expectedAudience] }), b)).status, 'affirming');
  });

  test('a fixed audience allowed by config yields only warning (replayable evidence, PROTOCOL §3)', async () => {
    const b = binding();
    const result = await attestor({ allowFixedAudience: 'https://github.com/acme' }).verify(await tokenFor(b, { aud: 'https://github.com/acme' }), b);
    assert.equal(result.status, 'warning');
  });
});

describe('rejections, one per check', () => {
  test('evidence that is not a string → ERR_OIDC_TOKEN_MALFORMED', async () => {
    await rejects(attestor().verify({ token: 'x' }, binding()), 'ERR_OIDC_TOKEN_MALFORMED');
  });

  test('a string that is not a JWT → ERR_OIDC_TOKEN_MALFORMED', async () => {
    await rejects(attestor().verify('not.a.jwt', binding()), 'ERR_OIDC_TOKEN_MALFORMED');
  });

  test('an issuer that is not configured → ERR_OIDC_TOKEN_ISSUER', async () => {
    const b = binding();
    await rejects(attestor().verify(await tokenFor(b, { iss: 'https://token.actions.githubusercontent.com' }), b), 'ERR_OIDC_TOKEN_ISSUER');
  });

  test('an algorithm the issuer is not allowed → ERR_OIDC_TOKEN_ALG', async () => {
    const b = binding();
    await rejects(attestor({ allowedAlgs: ['RS256'] }).verify(await tokenFor(b, {}, { alg: 'ES256' }), b), 'ERR_OIDC_TOKEN_ALG');
  });

  test('an access token (typ at+jwt) → ERR_OIDC_TOKEN_TYP', async () => {
    const b = binding();
    await rejects(attestor().verify(await tokenFor(b, {}, { typ: 'at+jwt' }), b), 'ERR_OIDC_TOKEN_TYP');
  });

  test('signed by a key the issuer does not publish → ERR_OIDC_TOKEN_SIGNATURE', async () => {
    const b = binding();
    await rejects(attestor().verify(await tokenFor(b, {}, { foreignKey: true }), b), 'ERR_OIDC_TOKEN_SIGNATURE');
  });

  test('claims altered after signing → ERR_OIDC_TOKEN_SIGNATURE', async () => {
    const b = binding();
    const [h, p, s] = (await tokenFor(b)).split('.') as [string, string, string];
    const claims = { ...JSON.parse(Buffer.from(p, 'base64url').toString()), repository_id: '1' };
    await rejects(attestor().verify(`${h}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${s}`, b), 'ERR_OIDC_TOKEN_SIGNATURE');
  });

  test('issuer keys unreachable → ERR_OIDC_ISSUER_UNAVAILABLE', async () => {
    const b = binding();
    const token = await tokenFor(b);
    issuer.failing = true;
    try {
      await rejects(attestor().verify(token, b), 'ERR_OIDC_ISSUER_UNAVAILABLE');
    } finally {
      issuer.failing = false;
    }
  });

  test('exp past the skew → ERR_OIDC_TOKEN_EXPIRED', async () => {
    const b = binding();
    await rejects(attestor().verify(await tokenFor(b, { exp: Math.floor(now / 1000) - 31 }), b), 'ERR_OIDC_TOKEN_EXPIRED');
  });

  test('nbf beyond the skew → ERR_OIDC_TOKEN_NOT_YET_VALID', async () => {
    const b = binding();
    await rejects(attestor().verify(await tokenFor(b, { nbf: Math.floor(now / 1000) + 60 }), b), 'ERR_OIDC_TOKEN_NOT_YET_VALID');
  });

  test('no iat → ERR_OIDC_TOKEN_IAT', async () => {
    const b = binding();
    await rejects(attestor().verify(await tokenFor(b, { iat: undefined }), b), 'ERR_OIDC_TOKEN_IAT');
  });

  test('an audience not bound to this nonce and key → ERR_OIDC_TOKEN_AUDIENCE', async () => {
    const b = binding();
    await rejects(attestor().verify(await tokenFor(b, { aud: binding().expectedAudience }), b), 'ERR_OIDC_TOKEN_AUDIENCE');
  });

  test('a fixed audience the config does not allow → ERR_OIDC_TOKEN_AUDIENCE', async () => {
    const b = binding();
    await rejects(attestor().verify(await tokenFor(b, { aud: 'https://github.com/acme' }), b), 'ERR_OIDC_TOKEN_AUDIENCE');
  });

  test('the same token twice → ERR_OIDC_TOKEN_REPLAYED', async () => {
    const verifier = attestor({ allowFixedAudience: 'sts.amazonaws.com' });
    const token = await issuer.sign({ aud: 'sts.amazonaws.com' });
    await verifier.verify(token, binding());
    await rejects(verifier.verify(token, binding()), 'ERR_OIDC_TOKEN_REPLAYED');
  });
});

describe('config', () => {
  test('an issuer needs exactly one key source', () => {
    assert.throws(() => configSchema.parse({ issuers: [{ issuer: issuer.issuer }] }), /exactly one of discovery, jwksUri, jwksFile/);
    assert.throws(() => configSchema.parse({ issuers: [{ issuer: issuer.issuer, discovery: true, jwksUri: issuer.jwksUri }] }), /exactly one/);
  });

  test('plain http is refused for a non-loopback issuer', () => {
    assert.throws(() => configSchema.parse({ issuers: [{ issuer: 'http://ci.example.com', discovery: true }] }), /https/);
  });

  test('alg none and HMAC cannot be allowed', () => {
    assert.throws(() => configSchema.parse({ issuers: [{ issuer: issuer.issuer, discovery: true, allowedAlgs: ['HS256'] }] }));
  });
});
