import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { createBundleCache } from './bundle-cache.ts';
import { BundleUnavailableError, fileLoader, MAX_BUNDLE_BYTES, parseBundle } from './bundle.ts';

const dir = mkdtempSync(join(tmpdir(), 'mandate-spiffe-bundle-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const key = (kid: string, use = 'jwt-svid') => ({ kty: 'EC', crv: 'P-256', x: 'x', y: 'y', kid, use });
const bundleText = (sequence: number, hintSeconds?: number, kid = `k${sequence}`) =>
  JSON.stringify({ keys: [key(kid)], spiffe_sequence: sequence, ...(hintSeconds === undefined ? {} : { spiffe_refresh_hint: hintSeconds }) });

/** A loader serving the given texts in turn (an Error entry fails that load), counting calls. */
function scripted(texts: (string | Error)[]) {
  const state = { calls: 0 };
  const load = async () => {
    const next = texts[Math.min(state.calls, texts.length - 1)]!;
    state.calls += 1;
    if (next instanceof Error) throw next;
    return next;
  };
  return { load, state };
}

describe('bundle cache', () => {
  test('the bundle\'s refresh hint sets the interval when none is configured', async () => {
    let now = 0;
    const { load, state } = scripted([bundleText(1, 120), bundleText(2, 120)]);
    const cache = createBundleCache({ load, clock: { now: () => now } });
    await cache.current();
    now += 119_000;
    await cache.current();
    assert.equal(state.calls, 1);
    now += 2000;
    assert.equal((await cache.current()).sequence, 2);
    assert.equal(state.calls, 2);
  });

  test('a hint below 30 s is raised to 30 s (a publisher cannot make the broker poll in a loop)', async () => {
    let now = 0;
    const { load, state } = scripted([bundleText(1, 1)]);
    const cache = createBundleCache({ load, clock: { now: () => now } });
    await cache.current();
    now += 29_000;
    await cache.current();
    assert.equal(state.calls, 1);
  });

  test('a bundle with a lower spiffe_sequence is ignored (§4.1.1)', async () => {
    let now = 0;
    const { load } = scripted([bundleText(5), bundleText(4)]);
    const cache = createBundleCache({ load, clock: { now: () => now }, intervalMs: 1000 });
    await cache.current();
    now += 1000;
    const bundle = await cache.current();
    assert.equal(bundle.sequence, 5);
    assert.ok(bundle.keysById.has('k5'));
  });

  test('a source never read is unavailable, and retried only after 30 s', async () => {
    let now = 0;
    const { load, state } = scripted([new Error('connection refused'), bundleText(1)]);
    const cache = createBundleCache({ load, clock: { now: () => now } });
    await assert.rejects(cache.current(), BundleUnavailableError);
    await assert.rejects(cache.current(), BundleUnavailableError);
    assert.equal(state.calls, 1);
    now += 30_000;
    assert.equal((await cache.current()).sequence, 1);
  });

  test('concurrent requests share one load', async () => {
    const { load, state } = scripted([bundleText(1)]);
    const cache = createBundleCache({ load, clock: { now: () => 0 } });
    await Promise.all([cache.current(), cache.current(), cache.reloadForUnknownKey()]);
    assert.equal(state.calls, 1);
  });
});

describe('bundle format and sources', () => {
  test('keys without kid, use or kty are dropped; one kid may name keys of two uses', () => {
    const bundle = parseBundle(JSON.stringify({ keys: [key('a'), key('a', 'x509-svid'), { kty: 'EC', use: 'x509-svid', x5c: ['MII…'] }, { kid: 'b', use: 'jwt-svid' }] }));
    assert.deepEqual([...bundle.keysById.keys()], ['a']);
    assert.deepEqual(bundle.keysById.get('a')?.map((k) => k.use), ['jwt-svid', 'x509-svid']);
    assert.equal(bundle.sequence, undefined);
  });

  test('a document that is not a JWK set is refused', () => {
    assert.throws(() => parseBundle('{"issuer":"x"}'), BundleUnavailableError);
    assert.throws(() => parseBundle('not json'), BundleUnavailableError);
  });

  test('a bundle file larger than 1 MiB is refused', async () => {
    const path = join(dir, 'huge.json');
    writeFileSync(path, ' '.repeat(MAX_BUNDLE_BYTES + 1));
    await assert.rejects(fileLoader(path)(), /larger than/);
  });
});
