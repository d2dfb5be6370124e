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
        { id: first, recipient: 'usr_1', kind: 'mandate.requested', payload: { request: 'req_1', scopes: ['a', 'b'] }, createdAt: 100, deliveredAt: null, readAt: null },
        { id: second, recipient: 'usr_2', kind: 'agent.orphaned', payload: { agent: 'agt_9' }, createdAt: 50, deliveredAt: null, readAt: null },
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

    test('a recipient lists only their own notifications, newest first; unreadOnly leaves out read ones', async () => {
      const { a, b } = fixture();
      const ids: number[] = [];
      for (let i = 0; i < 3; i++) ids.push(await a.notifications.enqueue('usr_1', 'k', { i }, 10 + i));
      await b.notifications.enqueue('usr_2', 'k', {}, 20);
      assert.deepEqual((await b.notifications.listForRecipient('usr_1', { limit: 10 })).map((n) => n.id), [ids[2], ids[1], ids[0]]);
      assert.deepEqual((await b.notifications.listForRecipient('usr_1', { limit: 2 })).map((n) => n.id), [ids[2], ids[1]]);
      assert.equal(await a.notifications.markRead('usr_1', [ids[1]!], 99), 1);
      assert.deepEqual((await b.notifications.listForRecipient('usr_1', { unreadOnly: true, limit: 10 })).map((n) => n.id), [ids[2], ids[0]]);
      const read = (await a.notifications.listForRecipient('usr_1', { limit: 10 })).find((n) => n.id === ids[1]);
      assert.equal(read?.readAt, 99);
    });

    test('unreadCount and markRead: only the recipient\'s own, each once, all at once with "all"', async () => {
      const { a, b } = fixture();
      const mine = [await a.notifications.enqueue('usr_1', 'k', {}, 1), await a.notifications.enqueue('usr_1', 'k', {}, 2), await a.notifications.enqueue('usr_1', 'k', {}, 3)];
      const theirs = await b.notifications.enqueue('usr_2', 'k', {}, 4);
      assert.equal(await b.notifications.unreadCount('usr_1'), 3);
      assert.equal(await a.notifications.markRead('usr_1', [theirs], 5), 0, "another human's notification is left alone");
      assert.equal(await b.notifications.unreadCount('usr_2'), 1);
      assert.equal(await a.notifications.markRead('usr_1', [mine[0]!, mine[0]!], 5), 1);
      assert.equal(await b.notifications.markRead('usr_1', [mine[0]!], 6), 0, 'read before: unchanged');
      assert.equal(await a.notifications.markRead('usr_1', [], 6), 0);
      assert.equal(await b.notifications.markRead('usr_1', 'all', 7), 2);
      assert.equal(await a.notifications.unreadCount('usr_1'), 0);
      assert.equal(await a.notifications.unreadCount('usr_9'), 0);
    });

    test('concurrent markRead "all" on two connections: each notification is counted once', async () => {
      const { a, b } = fixture();
      for (let i = 0; i < 10; i++) await a.notifications.enqueue('usr_1', 'k', { i }, i);
      const changed = await Promise.all([a, b, a, b].map((store, i) => store.notifications.markRead('usr_1', 'all', 100 + i)));
      assert.equal(changed.reduce((x, y) => x + y, 0), 10);
    });

    test('marking an unknown notification returns false', async () => {
      const { a } = fixture();
      assert.equal(await a.notifications.markDelivered(424242, 1), false);
    });
  });
}
