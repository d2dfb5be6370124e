import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { SignJWT } from 'jose';
import type { EvidenceBinding } from '../../ports/attestor.ts';
import { evidenceAudience } from '../../services/challenge.ts';
import { configSchema, create } from './index.ts';
import { createMemoryReplayCache } from '../memory-replay-cache.ts';
import { AGENT_PATH, startLocalTrustDomain, type LocalTrustDomain, type SvidOptions } from './local-trust-domain.ts';

const dir = mkdtempSync(join(tmpdir(), 'mandate-spiffe-'));
const bundleFile = join(dir, 'bundle.json');
let now = Date.now();
let domain: LocalTrustDomain;
let foreign: LocalTrustDomain;
let endpoint: string;

before(async () => {
  domain = await startLocalTrustDomain('prod.acme.internal', () => now);
  foreign = await startLocalTrustDomain('evil.example', () => now);
  writeFileSync(bundleFile, JSON.stringify(domain.bundle()));
  endpoint = await domain.serve();
});
after(async () => {
  await domain.close();
  await foreign.close();
  rmSync(dir, { recursive: true, force: true });
});

type DomainSettings = Record<string, unknown>;

function attestor(settings: DomainSettings = {}, top: Record<string, unknown> = {}) {
  const config = configSchema.parse({ trustDomains: [{ trustDomain: domain.trustDomain, bundleFile, ...settings }], ...top });
  return create(config, { replay: createMemoryReplayCache(), clock: { now: () => now } });
}

const fromEndpoint = (settings: DomainSettings = {}) => attestor({ bundleFile: undefined, bundleEndpoint: endpoint, ...settings });

function binding(): EvidenceBinding {
  const nonce = randomBytes(40).toString('base64url');
  const jkt = randomBytes(32).toString('base64url');
  return { nonce, jkt, agentId: 'agt_AAAAAAAAAAAAAAAAAAAAAA', now, expectedAudience: evidenceAudience(nonce, jkt) };
}

const svidFor = (b: EvidenceBinding, claims: Record<string, unknown> = {}, options: SvidOptions = {}) => domain.sign({ aud: [b.expectedAudience], ...claims }, options);

const rejects = (promise: Promise<unknown>, code: string, reason?: string) =>
  assert.rejects(promise, (e: { code?: string; details?: { reason?: string } }) => {
    assert.equal(e.code, code, String(e));
    if (reason !== undefined) assert.equal(e.details?.reason, reason);
    return true;
  });

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

describe('accepted JWT-SVIDs', () => {
  test('an ES256 JWT-SVID bound to the challenge affirms and emits the SPIFFE ID (bundle file)', async () => {
    const b = binding();
    const token = await svidFor(b);
    const result = await attestor().verify(token, b);
    assert.equal(result.status, 'affirming');
    assert.deepEqual(result.claims, { spiffe_id: `spiffe://prod.acme.internal${AGENT_PATH}`, trust_domain: 'prod.acme.internal', path: AGENT_PATH });
    assert.deepEqual(result.measured, []);
    assert.equal(result.evidenceDigest, createHash('sha256').update(token).digest('hex'));
    assert.equal(result.expiresAt, (Math.floor(now / 1000) + 300) * 1000);
    assert.ok(!JSON.stringify(result).includes(token.split('.')[2]!), 'the raw token must not be kept');
  });

  test('an RS256 JWT-SVID with the bundle from a bundle endpoint, fetched once for many tokens', async () => {
    const verifier = fromEndpoint();
    const before = domain.fetches;
    for (const alg of ['RS256', 'ES256', 'RS256'] as const) {
      const b = binding();
      assert.equal((await verifier.verify(await svidFor(b, {}, { alg }), b)).status, 'affirming');
    }
    assert.equal(domain.fetches, before + 1);
  });

  test('typ JOSE, no typ, and a single-string aud are accepted (JWT-SVID §2.3, §3.2)', async () => {
    const verifier = attestor();
    for (const [typ, aud] of [['JOSE', 'list'], [null, 'string']] as const) {
      const b = binding();
      const token = await svidFor(b, { aud: aud === 'list' ? [b.expectedAudience] : b.expectedAudience }, { typ });
      assert.equal((await verifier.verify(token, b)).status, 'affirming');
    }
  });

  test('an allowed fixed audience yields only warning (replayable evidence, PROTOCOL §3)', async () => {
    const b = binding();
    const result = await attestor({}, { allowFixedAudience: 'mandate' }).verify(await svidFor(b, { aud: ['mandate'] }), b);
    assert.equal(result.status, 'warning');
  });

  test('allowedPaths: an exact path and a prefix ending in /', async () => {
    for (const allowedPaths of [[AGENT_PATH], ['/ns/other', '/ns/agents/']]) {
      const b = binding();
      assert.equal((await attestor({ allowedPaths }).verify(await svidFor(b), b)).status, 'affirming');
    }
  });

  test('a key rotation: an unknown kid reloads the bundle, at most once per 30 s', async () => {
    const verifier = fromEndpoint();
    const first = binding();
    await verifier.verify(await svidFor(first), first);
    const before = domain.fetches;
    await domain.rotate();
    writeFileSync(bundleFile, JSON.stringify(domain.bundle()));
    const early = binding();
    await assert.rejects(verifier.verify(await svidFor(early), early), { code: 'ERR_SPIFFE_JWT_SVID_KEY_UNKNOWN' });
    assert.equal(domain.fetches, before, 'no reload within the cooldown');
    now += 31_000;
    const b = binding();
    assert.equal((await verifier.verify(await svidFor(b), b)).status, 'affirming');
    assert.equal(domain.fetches, before + 1);
  });

  test('past the refresh interval the bundle is reloaded; a failed reload keeps the last good bundle', async () => {
    const verifier = fromEndpoint({ refreshInterval: '1m' });
    const first = binding();
    await verifier.verify(await svidFor(first), first);
    const before = domain.fetches;
    now += 61_000;
    domain.failing = true;
    try {
      const b = binding();
      assert.equal((await verifier.verify(await svidFor(b), b)).status, 'affirming');
    } finally {
      domain.failing = false;
    }
    now += 61_000;
    const b = binding();
    await verifier.verify(await svidFor(b), b);
    assert.equal(domain.fetches, before + 1);
  });
});

describe('rejections, one per check', () => {
  test('evidence that is not a string (ERR_SPIFFE_JWT_SVID_MALFORMED)', async () => {
    await rejects(attestor().verify({ svid: 'x' }, binding()), 'ERR_SPIFFE_JWT_SVID_MALFORMED');
  });

  test('a string that is not a compact JWT (ERR_SPIFFE_JWT_SVID_MALFORMED)', async () => {
    await rejects(attestor().verify('not.a.jwt', binding()), 'ERR_SPIFFE_JWT_SVID_MALFORMED');
  });

  test('an HMAC-signed token (ERR_SPIFFE_JWT_SVID_ALG)', async () => {
    const b = binding();
    const token = await new SignJWT({ sub: `spiffe://prod.acme.internal${AGENT_PATH}`, aud: [b.expectedAudience], exp: Math.floor(now / 1000) + 60 })
      .setProtectedHeader({ alg: 'HS256' })
      .sign(randomBytes(32));
    await rejects(attestor().verify(token, b), 'ERR_SPIFFE_JWT_SVID_ALG');
  });

  test('an unsecured token, alg none (ERR_SPIFFE_JWT_SVID_ALG)', async () => {
    const b = binding();
    const token = `${b64({ alg: 'none' })}.${b64({ sub: `spiffe://prod.acme.internal${AGENT_PATH}`, aud: [b.expectedAudience], exp: Math.floor(now / 1000) + 60 })}.`;
    await rejects(attestor().verify(token, b), 'ERR_SPIFFE_JWT_SVID_ALG');
  });

  test('an access token, typ at+jwt (ERR_SPIFFE_JWT_SVID_TYP)', async () => {
    const b = binding();
    await rejects(attestor().verify(await svidFor(b, {}, { typ: 'at+jwt' }), b), 'ERR_SPIFFE_JWT_SVID_TYP');
  });

  const badSubjects: [string, unknown][] = [
    ['type', undefined],
    ['length', `spiffe://prod.acme.internal/${'a'.repeat(2048)}`],
    ['scheme', `https://prod.acme.internal${AGENT_PATH}`],
    ['query', `spiffe://prod.acme.internal${AGENT_PATH}?x=1`],
    ['fragment', `spiffe://prod.acme.internal${AGENT_PATH}#x`],
    ['userinfo', `spiffe://admin@prod.acme.internal${AGENT_PATH}`],
    ['port', `spiffe://prod.acme.internal:8443${AGENT_PATH}`],
    ['trust-domain', `spiffe://Prod.Acme.Internal${AGENT_PATH}`],
    ['empty-segment', 'spiffe://prod.acme.internal/ns//agent'],
    ['dot-segment', 'spiffe://prod.acme.internal/ns/../admin'],
    ['path-characters', 'spiffe://prod.acme.internal/ns/agent%2Fadmin'],
  ];
  for (const [reason, sub] of badSubjects) {
    test(`a subject that is not a SPIFFE ID, ${reason} (ERR_SPIFFE_JWT_SVID_SUBJECT)`, async () => {
      const b = binding();
      await rejects(attestor().verify(await svidFor(b, { sub }), b), 'ERR_SPIFFE_JWT_SVID_SUBJECT', reason);
    });
  }

  test('a SPIFFE ID of a trust domain not configured: wrong issuer (ERR_SPIFFE_JWT_SVID_TRUST_DOMAIN)', async () => {
    const b = binding();
    await rejects(attestor().verify(await foreign.sign({ aud: [b.expectedAudience] }), b), 'ERR_SPIFFE_JWT_SVID_TRUST_DOMAIN');
  });

  test('the bundle endpoint is unreachable (ERR_SPIFFE_JWT_SVID_BUNDLE_UNAVAILABLE)', async () => {
    const b = binding();
    const token = await svidFor(b);
    domain.failing = true;
    try {
      await rejects(fromEndpoint().verify(token, b), 'ERR_SPIFFE_JWT_SVID_BUNDLE_UNAVAILABLE');
    } finally {
      domain.failing = false;
    }
  });

  test('signed by another trust domain\'s authority: untrusted root (ERR_SPIFFE_JWT_SVID_KEY_UNKNOWN)', async () => {
    const b = binding();
    await rejects(attestor().verify(await foreign.sign({ sub: `spiffe://prod.acme.internal${AGENT_PATH}`, aud: [b.expectedAudience] }), b), 'ERR_SPIFFE_JWT_SVID_KEY_UNKNOWN');
  });

  test('no kid in the header (ERR_SPIFFE_JWT_SVID_KEY_UNKNOWN)', async () => {
    const b = binding();
    await rejects(attestor().verify(await svidFor(b, {}, { kid: null }), b), 'ERR_SPIFFE_JWT_SVID_KEY_UNKNOWN');
  });

  test('signed by the X.509-SVID authority of the bundle (ERR_SPIFFE_JWT_SVID_KEY_USE)', async () => {
    const b = binding();
    await rejects(attestor().verify(await svidFor(b, {}, { x509Authority: true }), b), 'ERR_SPIFFE_JWT_SVID_KEY_USE');
  });

  test('forged: a fresh key under a published kid (ERR_SPIFFE_JWT_SVID_SIGNATURE)', async () => {
    const b = binding();
    await rejects(attestor().verify(await svidFor(b, {}, { foreignKey: true }), b), 'ERR_SPIFFE_JWT_SVID_SIGNATURE');
  });

  test('claims altered after signing (ERR_SPIFFE_JWT_SVID_SIGNATURE)', async () => {
    const b = binding();
    const [h, p, s] = (await svidFor(b)).split('.') as [string, string, string];
    const claims = { ...JSON.parse(Buffer.from(p, 'base64url').toString()), sub: 'spiffe://prod.acme.internal/ns/admin' };
    await rejects(attestor().verify(`${h}.${b64(claims)}.${s}`, b), 'ERR_SPIFFE_JWT_SVID_SIGNATURE');
  });

  test('a tampered signature (ERR_SPIFFE_JWT_SVID_SIGNATURE)', async () => {
    const b = binding();
    const [h, p, s] = (await svidFor(b, {}, { alg: 'RS256' })).split('.') as [string, string, string];
    const signature = Buffer.from(s, 'base64url');
    signature[10] = (signature[10] ?? 0) ^ 0xff;
    await rejects(attestor().verify(`${h}.${p}.${signature.toString('base64url')}`, b), 'ERR_SPIFFE_JWT_SVID_SIGNATURE');
  });

  test('an authority used with another algorithm than its key type (ERR_SPIFFE_JWT_SVID_SIGNATURE)', async () => {
    const b = binding();
    const [, p, s] = (await svidFor(b)).split('.') as [string, string, string];
    const es256 = JSON.parse(Buffer.from((await svidFor(b)).split('.')[0]!, 'base64url').toString());
    await rejects(attestor().verify(`${b64({ ...es256, alg: 'RS256' })}.${p}.${s}`, b), 'ERR_SPIFFE_JWT_SVID_SIGNATURE');
  });

  test('exp past the skew (ERR_SPIFFE_JWT_SVID_EXPIRED)', async () => {
    const b = binding();
    await rejects(attestor().verify(await svidFor(b, { exp: Math.floor(now / 1000) - 31 }), b), 'ERR_SPIFFE_JWT_SVID_EXPIRED');
  });

  test('no exp (ERR_SPIFFE_JWT_SVID_EXPIRED)', async () => {
    const b = binding();
    await rejects(attestor().verify(await svidFor(b, { exp: undefined }), b), 'ERR_SPIFFE_JWT_SVID_EXPIRED');
  });

  test('nbf beyond the skew (ERR_SPIFFE_JWT_SVID_NOT_YET_VALID)', async () => {
    const b = binding();
    await rejects(attestor().verify(await svidFor(b, { nbf: Math.floor(now / 1000) + 60 }), b), 'ERR_SPIFFE_JWT_SVID_NOT_YET_VALID');
  });

  test('an audience bound to another nonce: wrong nonce (ERR_SPIFFE_JWT_SVID_AUDIENCE)', async () => {
    const b = binding();
    await rejects(attestor().verify(await svidFor(b, { aud: [binding().expectedAudience] }), b), 'ERR_SPIFFE_JWT_SVID_AUDIENCE');
  });

  test('a fixed audience the config does not allow: wrong audience (ERR_SPIFFE_JWT_SVID_AUDIENCE)', async () => {
    const b = binding();
    await rejects(attestor({}, { allowFixedAudience: 'mandate' }).verify(await svidFor(b, { aud: ['spiffe://prod.acme.internal/db'] }), b), 'ERR_SPIFFE_JWT_SVID_AUDIENCE');
  });

  test('no aud (ERR_SPIFFE_JWT_SVID_AUDIENCE)', async () => {
    const b = binding();
    await rejects(attestor().verify(await svidFor(b, { aud: undefined }), b), 'ERR_SPIFFE_JWT_SVID_AUDIENCE');
  });

  test('a path outside allowedPaths, also a look-alike prefix (ERR_SPIFFE_JWT_SVID_PATH)', async () => {
    const b = binding();
    const token = await svidFor(b, { sub: 'spiffe://prod.acme.internal/ns/agents-evil/sa/triage' });
    await rejects(attestor({ allowedPaths: ['/ns/agents/', AGENT_PATH] }).verify(token, b), 'ERR_SPIFFE_JWT_SVID_PATH');
  });

  test('the same JWT-SVID twice (ERR_SPIFFE_JWT_SVID_REPLAYED)', async () => {
    const verifier = attestor();
    const b = binding();
    const token = await svidFor(b);
    await verifier.verify(token, b);
    await rejects(verifier.verify(token, b), 'ERR_SPIFFE_JWT_SVID_REPLAYED');
  });
});

describe('config', () => {
  test('a trust domain needs exactly one bundle source', () => {
    assert.throws(() => configSchema.parse({ trustDomains: [{ trustDomain: 'prod.acme.internal' }] }), /exactly one of bundleFile, bundleEndpoint/);
    assert.throws(() => configSchema.parse({ trustDomains: [{ trustDomain: 'prod.acme.internal', bundleFile, bundleEndpoint: endpoint }] }), /exactly one/);
  });

  test('plain http is refused for a bundle endpoint off loopback', () => {
    assert.throws(() => configSchema.parse({ trustDomains: [{ trustDomain: 'prod.acme.internal', bundleEndpoint: 'http://spire.acme.example/bundle' }] }), /https/);
  });

  test('trust domain names and allowed paths are checked', () => {
    assert.throws(() => configSchema.parse({ trustDomains: [{ trustDomain: 'spiffe://prod.acme.internal', bundleFile }] }), /trust domain name/);
    assert.throws(() => configSchema.parse({ trustDomains: [{ trustDomain: 'prod.acme.internal', bundleFile, allowedPaths: ['ns/../x'] }] }), /SPIFFE ID path/);
  });

  test('a missing bundle file fails at start-up, not at the first request', () => {
    assert.throws(() => attestor({ bundleFile: join(dir, 'missing.json') }), /ENOENT/);
  });
});
