import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { WebhookDelivery } from '../../ports/webhook-deliveries.ts';
import { useFixture, type MakeFixture } from './fixture.ts';

function aDelivery(n: number, overrides: Partial<WebhookDelivery> = {}): WebhookDelivery {
  return {
    id: `whd_${n}`, webhook: n % 2 ? 'chat' : 'tickets', notificationId: n, kind: 'mandate.requested', body: `{"n":${n}}`, status: 'pending',
    attempts: 0, nextAttemptAt: 1000 + n, lastStatusCode: null, lastError: null, createdAt: 500 + n, deliveredAt: null, ...overrides,
  };
}

export function webhookDeliveriesSuite(makeFixture: MakeFixture): void {
  describe('WebhookDeliveryRepository', () => {
    const fixture = useFixture(makeFixture);

    test('insert and get round-trip; a taken id fails', async () => {
      const { a, b } = fixture();
      await a.webhookDeliveries.insert(aDelivery(1));
      assert.deepEqual(await b.webhookDeliveries.get('whd_1'), aDelivery(1));
      assert.equal(await b.webhookDeliveries.get('whd_2'), null);
      await assert.rejects(b.webhookDeliveries.insert(aDelivery(1)));
    });

    test('due: pending deliveries whose next attempt has come, soonest first', async () => {
      const { a, b } = fixture();
      await a.webhookDeliveries.insert(aDelivery(1, { nextAttemptAt: 300 }));
      await a.webhookDeliveries.insert(aDelivery(2, { nextAttemptAt: 100 }));
      await a.webhookDeliveries.insert(aDelivery(3, { nextAttemptAt: 900 }));
      await a.webhookDeliveries.insert(aDelivery(4, { status: 'delivered', nextAttemptAt: null, deliveredAt: 50 }));
      assert.deepEqual((await b.webhookDeliveries.due(500, 10)).map((d) => d.id), ['whd_2', 'whd_1']);
      assert.deepEqual((await b.webhookDeliveries.due(500, 1)).map((d) => d.id), ['whd_2']);
    });

    test('claim: one winner among concurrent replicas, and only from the expected next attempt', async () => {
      const f = fixture();
      await f.a.webhookDeliveries.insert(aDelivery(1, { nextAttemptAt: 100 }));
      const won = await Promise.all([f.a, f.b, f.a, f.b].map((store, i) => store.webhookDeliveries.claim('whd_1', 100, 5000 + i)));
      assert.equal(won.filter(Boolean).length, 1);
      assert.equal(await f.a.webhookDeliveries.claim('whd_1', 100, 9000), false);
      assert.equal((await f.b.webhookDeliveries.due(4000, 10)).length, 0, 'a leased delivery is not due until the lease ends');
    });

    test('recordAttempt: appends to the log and moves the delivery; a repeated attempt number adds no row', async () => {
      const { a, b } = fixture();
      await a.webhookDeliveries.insert(aDelivery(1));
      const first = { deliveryId: 'whd_1', attempt: 1, at: 1001, statusCode: 503, errorClass: 'http_503', durationMs: 12, nextAttemptAt: 2000 };
      await a.webhookDeliveries.recordAttempt(first, { status: 'pending', deliveredAt: null });
      await b.webhookDeliveries.recordAttempt(first, { status: 'pending', deliveredAt: null });
      const second = { deliveryId: 'whd_1', attempt: 2, at: 2001, statusCode: 204, errorClass: null, durationMs: 8, nextAttemptAt: null };
      await b.webhookDeliveries.recordAttempt(second, { status: 'delivered', deliveredAt: 2001 });
      assert.deepEqual(await a.webhookDeliveries.attempts('whd_1'), [first, second]);
      assert.deepEqual(await a.webhookDeliveries.get('whd_1'), { ...aDelivery(1), status: 'delivered', attempts: 2, nextAttemptAt: null, lastStatusCode: 204, lastError: null, deliveredAt: 2001 });
      assert.deepEqual(await a.webhookDeliveries.attempts('whd_9'), []);
    });

    test('list: newest first, by status and webhook', async () => {
      const { a, b } = fixture();
      for (const n of [1, 2, 3, 4]) await a.webhookDeliveries.insert(aDelivery(n, n === 4 ? { status: 'failed', nextAttemptAt: null } : {}));
      assert.deepEqual((await b.webhookDeliveries.list({}, 10)).map((d) => d.id), ['whd_4', 'whd_3', 'whd_2', 'whd_1']);
      assert.deepEqual((await b.webhookDeliveries.list({}, 2)).map((d) => d.id), ['whd_4', 'whd_3']);
      assert.deepEqual((await b.webhookDeliveries.list({ status: 'failed' }, 10)).map((d) => d.id), ['whd_4']);
      assert.deepEqual((await b.webhookDeliveries.list({ webhook: 'chat' }, 10)).map((d) => d.id), ['whd_3', 'whd_1']);
    });
  });
}
