import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MandateError } from '../core/errors.ts';
import type { LoopServices } from '../http/deps.ts';
import type { ChangeFeed } from '../ports/change-feed.ts';
import { instrumentChangeFeed, instrumentLoop, observeAppliedChange } from './instrument.ts';
import { createMetrics } from './metrics.ts';
import { outcomeOf } from './outcome.ts';

const valueOf = async (metrics: ReturnType<typeof createMetrics>, name: string, labels: Record<string, string> = {}) => {
  const metric = (await metrics.registry.getSingleMetric(name)?.get())!;
  return metric.values.find((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l))?.value ?? 0;
};

test('outcomes are the catalogue\'s RFC 6749 error, a named word, or internal_error: a bounded set', () => {
  assert.equal(outcomeOf(new MandateError('ERR_CLIENT_UNKNOWN', 'x')), 'invalid_client');
  assert.equal(outcomeOf(new MandateError('ERR_AUDIT_UNAVAILABLE', 'x')), 'temporarily_unavailable');
  assert.equal(outcomeOf(new MandateError('ERR_ATTESTATION_REJECTED', 'x'), { ERR_ATTESTATION_REJECTED: 'rejected' }), 'rejected');
  assert.equal(outcomeOf(new Error('boom')), 'internal_error');
});

test('each app has its own registry: two never share counts', async () => {
  const a = createMetrics({ processMetrics: false });
  const b = createMetrics({ processMetrics: false });
  a.mint('ciba', 'issued', 0.001);
  assert.equal(await valueOf(a, 'mandate_mint_total', { grant: 'ciba' }), 1);
  assert.equal(await valueOf(b, 'mandate_mint_total', { grant: 'ciba' }), 0);
});

test('the instrumented loop counts successes and failures by outcome and answers as before', async () => {
  const metrics = createMetrics({ processMetrics: false });
  const refused = new MandateError('ERR_MANDATE_STATE', 'the mandate is approved');
  const loop = {
    collect: async () => ({ token: 't' }),
    mint: async () => Promise.reject(new MandateError('ERR_GRANT_TYPE_UNSUPPORTED', 'x')),
    mintAutonomous: async () => ({}),
    attest: async () => ({ record: { verdict: 'affirming' } }),
    decisions: { approve: async () => Promise.reject(refused), deny: async () => ({ status: 'denied' }), get: async () => null },
  } as unknown as LoopServices;
  const instrumented = instrumentLoop(metrics, loop);
  assert.deepEqual(await instrumented.collect({} as never), { token: 't' });
  await assert.rejects(instrumented.mint({} as never), { code: 'ERR_GRANT_TYPE_UNSUPPORTED' });
  await assert.rejects(instrumented.decisions.approve('mdt_x', { method: 'passkey', proof: {} }, { actor: 'usr_x', requestId: 'req_x' }), refused);
  await instrumented.decisions.deny('mdt_x', { actor: 'usr_x', requestId: 'req_x' });
  await instrumented.attest({} as never);
  assert.equal(instrumented.decisions.get, loop.decisions.get, 'other members pass through');
  assert.equal(await valueOf(metrics, 'mandate_mint_total', { grant: 'ciba', outcome: 'issued' }), 1);
  assert.equal(await valueOf(metrics, 'mandate_mint_total', { grant: 'token_exchange', outcome: 'unsupported_grant_type' }), 1);
  assert.equal(await valueOf(metrics, 'mandate_approval_total', { method: 'passkey', outcome: 'invalid_request' }), 1);
  assert.equal(await valueOf(metrics, 'mandate_approval_total', { method: 'none', outcome: 'denied' }), 1);
  assert.equal(await valueOf(metrics, 'mandate_attest_total', { outcome: 'affirming' }), 1);
});

test('revocations are counted where published, with the local apply time; other topics are not', async () => {
  const metrics = createMetrics({ processMetrics: false });
  let now = 1000;
  const feed: ChangeFeed = { publish: async () => ((now += 4), 7), since: async () => [], latest: async () => 7 };
  const instrumented = instrumentChangeFeed(feed, metrics, () => now);
  assert.equal(await instrumented.publish('mandate.revoked', 'mdt_1', 1000), 7);
  await instrumented.publish('key.rotated', 'kid', now);
  observeAppliedChange(metrics, { topic: 'token.revoked', at: 900 }, 1150);
  assert.equal(await valueOf(metrics, 'mandate_revocation_total', { kind: 'mandate.revoked' }), 1);
  assert.equal(await valueOf(metrics, 'mandate_revocation_total', { kind: 'key.rotated' }), 0);
  const text = await metrics.render();
  assert.match(text, /mandate_revocation_propagation_seconds_sum\{kind="mandate\.revoked"\} 0\.004$/m);
  assert.match(text, /mandate_revocation_propagation_seconds_sum\{kind="token\.revoked"\} 0\.25$/m);
});

test('cache sizes are read at each scrape', async () => {
  const metrics = createMetrics({ processMetrics: false });
  let size = 2;
  metrics.cacheSize('dpop_keys', () => size);
  assert.match(await metrics.render(), /mandate_cache_entries\{cache="dpop_keys"\} 2$/m);
  size = 5;
  assert.match(await metrics.render(), /mandate_cache_entries\{cache="dpop_keys"\} 5$/m);
});

test('revocations from other replicas are timed when they arrive through the subscription; this replica\'s own are not timed twice', async () => {
  const metrics = createMetrics({ processMetrics: false });
  let deliver: (change: { cursor: number; topic: string; key: string; at: number }) => void = () => undefined;
  const feed: ChangeFeed = {
    publish: async () => 1, since: async () => [], latest: async () => 0,
    subscribe: (listener) => ((deliver = (c) => void listener(c)), { close: async () => undefined }),
  };
  const instrumented = instrumentChangeFeed(feed, metrics, () => 2000);
  assert.ok(instrumented.observeRemote());
  await instrumented.publish('token.revoked', 'jti-here', 1990);
  deliver({ cursor: 1, topic: 'token.revoked', key: 'jti-here', at: 1990 });
  deliver({ cursor: 2, topic: 'token.revoked', key: 'jti-elsewhere', at: 1500 });
  deliver({ cursor: 3, topic: 'key.rotated', key: 'kid', at: 1500 });
  const text = await metrics.render();
  assert.match(text, /mandate_revocation_propagation_seconds_count\{kind="token\.revoked"\} 2$/m);
  assert.match(text, /mandate_revocation_propagation_seconds_sum\{kind="token\.revoked"\} 0\.51$/m);
  assert.equal(instrumentChangeFeed({ ...feed, subscribe: undefined } as ChangeFeed, metrics, () => 0).observeRemote(), null);
});
