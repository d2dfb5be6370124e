import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { useFixture, type MakeFixture } from './fixture.ts';

export function notificationSinkSuite(makeFixture: MakeFixture): void {
  describe('NotificationSink', () => {
    const fixture = useFixture(makeFixture);

    test('pending lists undelivered notifications oldest first, payload intact', async () => {
      const { a, b } = fixture();
      const first = await a.notifications.enqueue('usr_1', 'mandate.requested', { request: 'req_1', scopes: ['a', 'b'] }, 100);
      const second = await b.notifications.enqueue('usr_2', 'agent.orphaned', { agent: 'agt_9' }, 50);
      assert.ok(second > first);
      assert.deepEqual(await a.notifications.pending(10), [
        { id: first, recipient: 'usr_1', kind: 'mandate.requested', payload: { request: 'req_1', scopes: ['a', 'b'] }, createdAt: 100, deliveredAt: null },
        { id: second, recipient: 'usr_2', kind: 'agent.orphaned', payload: { agent: 'agt_9' }, createdAt: 50, deliveredAt: null },
      ]);
      assert.deepEqual((await b.notifications.pending(1)).map((n) => n.id), [first]);
    });

    test('markDelivered succeeds once; delivered notifications leave pending', async () => {
      const { a, b } = fixture();
      const ids = [];
      for (let i = 0; i < 3; i++) ids.push(await a.notifications.enqueue('usr_1', 'k', { i }, i));
      assert.equal(await b.notifications.markDelivered(ids[1]!, 500), true);
      assert.equal(await a.notifications.markDelivered(ids[1]!, 600), false);
      assert.deepEqual((await a.notifications.pending(10)).map((n) => n.id), [ids[0], ids[2]]);
    });

    test('concurrent deliverers on two connections: exactly one marks a notification', async () => {
      const { a, b } = fixture();
      const id = await a.notifications.enqueue('usr_1', 'k', {}, 1);
      const results = await Promise.all([a, b, a, b].map((store, i) => store.notifications.markDelivered(id, 10 + i)));
      assert.equal(results.filter(Boolean).length, 1);
      assert.deepEqual(await b.notifications.pending(10), []);
    });

    test('marking an unknown notification returns false', async () => {
      const { a } = fixture();
      assert.equal(await a.notifications.markDelivered(424242, 1), false);
    });
  });
}
