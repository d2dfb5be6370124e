import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { createSqliteStore } from '../store/sqlite/index.ts';
import { createWebhookDeliverer, deliveryId, signWebhook } from './webhook.ts';

const SECRET = 'a-webhook-secret-of-at-least-32-characters';

test('the signature is t=<unix>,v1=<hex HMAC-SHA256(secret, t + "." + body)>', () => {
  const body = '{"kind":"review.due"}';
  const expected = createHmac('sha256', SECRET).update(`1700000000.${body}`).digest('hex');
  assert.equal(signWebhook(SECRET, 1_700_000_000, body), `t=1700000000,v1=${expected}`);
  assert.notEqual(signWebhook(SECRET, 1_700_000_001, body), signWebhook(SECRET, 1_700_000_000, body), 'the timestamp is signed');
});

test('a delivery id is the same for one (notification, webhook) everywhere, and differs otherwise', () => {
  assert.equal(deliveryId(7, 'chat'), deliveryId(7, 'chat'));
  assert.match(deliveryId(7, 'chat'), /^whd_[A-Za-z0-9_-]{22}$/);
  assert.notEqual(deliveryId(7, 'chat'), deliveryId(7, 'tickets'));
  assert.notEqual(deliveryId(7, 'chat'), deliveryId(8, 'chat'));
});

test('enqueue: one delivery per webhook that takes the kind, idempotent when repeated', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mandate-webhook-'));
  const store = await createSqliteStore({ path: join(dir, 'store.db') });
  try {
    const deliverer = createWebhookDeliverer({
      repository: store.webhookDeliveries, clock: { now: () => 1000 }, random: { base64url: () => 'AAA' }, timeoutMs: 1000, pollMs: 0,
      maxAttempts: 3, initialBackoff: 60_000, maxBackoff: 600_000,
      targets: [
        { name: 'chat', url: 'http://127.0.0.1:9/a', secret: SECRET, kinds: ['review.due'] },
        { name: 'all', url: 'http://127.0.0.1:9/b', secret: SECRET, kinds: null },
      ],
    });
    const n = { id: 1, recipient: 'usr_1', kind: 'mandate.requested', payload: { mandate_id: 'mdt_1' }, createdAt: 5, deliveredAt: null, readAt: null };
    assert.deepEqual(await deliverer.enqueue(n), [deliveryId(1, 'all')]);
    assert.deepEqual(await deliverer.enqueue(n), [deliveryId(1, 'all')]);
    assert.equal((await deliverer.enqueue({ ...n, id: 2, kind: 'review.due' })).length, 2);
    const stored = await store.webhookDeliveries.list({}, 10);
    assert.equal(stored.length, 3);
    const body = JSON.parse(stored.find((d) => d.notificationId === 1)!.body) as Record<string, unknown>;
    assert.deepEqual([body.delivery_id, body.kind, body.recipient, body.created_at], [deliveryId(1, 'all'), 'mandate.requested', 'usr_1', '1970-01-01T00:00:00.005Z']);
    assert.ok(!stored.some((d) => d.body.includes(SECRET)));
    deliverer.close();
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
