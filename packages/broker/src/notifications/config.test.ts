import assert from 'node:assert/strict';
import { test } from 'node:test';
import { configSchema } from '../config/schema.ts';
import { loadConfig } from '../config/load.ts';
import { webhookTargets } from './index.ts';

const issues = (raw: unknown) => {
  const result = configSchema.safeParse(raw);
  return result.success ? [] : result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
};

test('defaults: reviews every 90 days with a 7-day grace, six webhook attempts from 2 minutes', () => {
  const config = loadConfig({ env: {} });
  assert.deepEqual(config.reviews, { reviewEvery: 90 * 86_400_000, gracePeriod: 7 * 86_400_000, sweepInterval: 300_000 });
  assert.deepEqual([config.notifications.maxAttempts, config.notifications.initialBackoff, config.notifications.webhooks], [6, 120_000, []]);
});

test('reviewEvery "off" (or a zero duration) turns reviews off; other words are refused with the dotted path', () => {
  assert.equal(configSchema.parse({ reviews: { reviewEvery: 'off' } }).reviews.reviewEvery, 0);
  assert.equal(configSchema.parse({ reviews: { reviewEvery: '0d' } }).reviews.reviewEvery, 0);
  assert.match(issues({ reviews: { reviewEvery: 'never' } })[0]!, /^reviews\.reviewEvery: /);
});

test('a webhook URL is https, or http only to a loopback receiver', () => {
  assert.deepEqual(issues({ notifications: { webhooks: [{ url: 'http://127.0.0.1:8080/h', secretEnv: 'S' }, { url: 'https://chat.example.com/h', secretEnv: 'S' }] } }), []);
  assert.deepEqual(issues({ notifications: { webhooks: [{ url: 'http://chat.example.com/h', secretEnv: 'S' }] } }), [
    'notifications.webhooks.0.url: must be https (plain http only for a loopback receiver)',
  ]);
  assert.match(issues({ notifications: { webhooks: [{ url: 'https://a.example/h', secretEnv: 'lower-case' }] } })[0]!, /^notifications\.webhooks\.0\.secretEnv: /);
  assert.match(issues({ notifications: { webhooks: [{ url: 'https://a.example/h', secretEnv: 'S', kinds: ['token.issued'] }] } })[0]!, /^notifications\.webhooks\.0\.kinds\.0: /);
});

test('secrets come from the environment: missing, short or duplicate names fail with dotted paths; never the secret in the message', () => {
  const config = loadConfig({ env: {} });
  const withHooks = { ...config, notifications: { ...config.notifications, webhooks: [
    { url: 'https://a.example/h', secretEnv: 'A_SECRET', name: 'chat' }, { url: 'https://b.example/h', secretEnv: 'B_SECRET', name: 'chat' },
  ] } } as typeof config;
  const short = 'too-short-secret';
  assert.throws(() => webhookTargets(withHooks, { B_SECRET: short }), (error: Error & { issues?: Array<{ path: string }> }) => {
    assert.deepEqual(error.issues?.map((i) => i.path), ['notifications.webhooks.0.secretEnv', 'notifications.webhooks.1.secretEnv', 'notifications.webhooks.1.name']);
    assert.ok(!error.message.includes(short));
    return true;
  });
  const long = 'x'.repeat(40);
  const [first] = webhookTargets({ ...withHooks, notifications: { ...withHooks.notifications, webhooks: [withHooks.notifications.webhooks[0]!] } }, { A_SECRET: long });
  assert.deepEqual(first, { name: 'chat', url: 'https://a.example/h', secret: long, kinds: null });
});
