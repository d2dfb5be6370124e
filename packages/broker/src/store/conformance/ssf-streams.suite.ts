import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { SsfStream } from '../../ports/ssf-streams.ts';
import { onBoth, useFixture, type MakeFixture } from './fixture.ts';

const NOW = 1_700_000_000_000;
const aStream = (n: number, overrides: Partial<SsfStream> = {}): SsfStream => ({
  id: `ssf_${n}`, audience: 'https://api.example', endpointUrl: `https://rs.example/events/${n}`, eventsRequested: ['urn:e1'],
  status: 'enabled', reason: null, description: n % 2 ? null : `stream ${n}`, createdAt: NOW + n, updatedAt: NOW + n, ...overrides,
});
const entry = (streamId: string, eventId: string, nextAttemptAt = NOW) => ({ streamId, eventId, payload: { jti: eventId, n: 1 }, nextAttemptAt, createdAt: NOW });

export function ssfStreamRepositorySuite(makeFixture: MakeFixture): void {
  describe('SsfStreamRepository', () => {
    const fixture = useFixture(makeFixture);

    test('streams read back whole, by id and by audience, and update and delete', async () => {
      const { a, b } = fixture();
      await a.ssfStreams.insert(aStream(1));
      await a.ssfStreams.insert(aStream(2));
      await a.ssfStreams.insert(aStream(3, { audience: 'https://other.example' }));
      assert.deepEqual(await b.ssfStreams.get('ssf_2'), aStream(2));
      assert.deepEqual((await b.ssfStreams.listByAudience('https://api.example')).map((s) => s.id), ['ssf_1', 'ssf_2']);
      const updated = await b.ssfStreams.update('ssf_1', { status: 'paused', reason: 'maintenance', eventsRequested: [], updatedAt: NOW + 9 });
      assert.deepEqual(updated, aStream(1, { status: 'paused', reason: 'maintenance', eventsRequested: [], updatedAt: NOW + 9 }));
      assert.equal(await b.ssfStreams.update('ssf_404', { status: 'paused' }), null);
      assert.equal(await a.ssfStreams.delete('ssf_1'), true);
      assert.equal(await a.ssfStreams.delete('ssf_1'), false);
      assert.equal(await b.ssfStreams.get('ssf_1'), null);
    });

    test('subjects are a set per stream and go with the stream', async () => {
      const { a, b } = fixture();
      await a.ssfStreams.insert(aStream(1));
      await a.ssfStreams.addSubject('ssf_1', 'id:mdt_2');
      await b.ssfStreams.addSubject('ssf_1', 'id:mdt_2');
      await b.ssfStreams.addSubject('ssf_1', 'jti:j1');
      assert.deepEqual(await a.ssfStreams.subjects('ssf_1'), ['id:mdt_2', 'jti:j1']);
      assert.equal(await a.ssfStreams.removeSubject('ssf_1', 'id:mdt_2'), true);
      assert.equal(await a.ssfStreams.removeSubject('ssf_1', 'id:mdt_2'), false);
      await a.ssfStreams.enqueue(entry('ssf_1', 'e1'));
      await a.ssfStreams.delete('ssf_1');
      assert.deepEqual(await b.ssfStreams.subjects('ssf_1'), []);
      assert.deepEqual(await b.ssfStreams.due(NOW, 10), [], 'the outbox went with the stream');
    });

    test('the streams for a subject: those of its audience limited to no subject or holding one of its keys', async () => {
      const { a, b } = fixture();
      for (const n of [1, 2, 3, 4]) await a.ssfStreams.insert(aStream(n));
      await a.ssfStreams.insert(aStream(5, { audience: 'https://other.example' }));
      await a.ssfStreams.addSubject('ssf_2', 'jti:j1');
      await a.ssfStreams.addSubject('ssf_3', 'id:mdt_7');
      await a.ssfStreams.addSubject('ssf_3', 'jti:j9');
      await a.ssfStreams.addSubject('ssf_4', 'jti:j2');
      const ids = async (keys: string[]) => (await b.ssfStreams.listForSubjects('https://api.example', keys)).map((s) => s.id);
      assert.deepEqual(await ids(['jti:j1']), ['ssf_1', 'ssf_2']);
      assert.deepEqual(await ids(['jti:j1', 'id:mdt_7']), ['ssf_1', 'ssf_2', 'ssf_3']);
      assert.deepEqual(await ids(['jti:j3']), ['ssf_1'], 'a stream limited to other subjects is left out');
      assert.deepEqual(await ids([]), ['ssf_1']);
      assert.deepEqual(await b.ssfStreams.listForSubjects('https://other.example', ['jti:j1']), [aStream(5, { audience: 'https://other.example' })], 'read back whole');
      await a.ssfStreams.removeSubject('ssf_4', 'jti:j2');
      assert.deepEqual(await ids(['jti:j3']), ['ssf_1', 'ssf_4'], 'without its last subject a stream takes every event again');
    });

    test('an event is enqueued once per stream, whichever connection enqueues it', async () => {
      const f = fixture();
      await f.a.ssfStreams.insert(aStream(1));
      const wins = await onBoth(f, 10, (store) => store.ssfStreams.enqueue(entry('ssf_1', 'e1')));
      assert.equal(wins.filter(Boolean).length, 1);
      assert.deepEqual(await f.b.ssfStreams.due(NOW, 10), [{ ...entry('ssf_1', 'e1'), attempts: 0 }]);
    });

    test('of concurrent leases one wins; a leased entry is not due until the lease ends', async () => {
      const f = fixture();
      await f.a.ssfStreams.insert(aStream(1));
      await f.a.ssfStreams.enqueue(entry('ssf_1', 'e1'));
      const wins = await onBoth(f, 10, (store) => store.ssfStreams.lease('ssf_1', 'e1', NOW, NOW + 5000));
      assert.equal(wins.filter(Boolean).length, 1);
      assert.deepEqual(await f.a.ssfStreams.due(NOW + 4999, 10), []);
      assert.equal((await f.b.ssfStreams.due(NOW + 5000, 10))[0]?.eventId, 'e1', 'due again once the lease ends');
    });

    test('a delivered or given-up entry is never due again; a retried one is due at its time', async () => {
      const { a, b } = fixture();
      await a.ssfStreams.insert(aStream(1));
      for (const id of ['e1', 'e2', 'e3']) await a.ssfStreams.enqueue(entry('ssf_1', id));
      await b.ssfStreams.markDelivered('ssf_1', 'e1', NOW);
      await b.ssfStreams.markFailed('ssf_1', 'e2', 'HTTP 400 invalid_key', null, NOW);
      await b.ssfStreams.markFailed('ssf_1', 'e3', 'unreachable', NOW + 1000, NOW);
      assert.deepEqual(await a.ssfStreams.due(NOW + 999, 10), []);
      assert.deepEqual((await a.ssfStreams.due(NOW + 1000, 10)).map((e) => [e.eventId, e.attempts]), [['e3', 1]], 'the failed attempt is counted');
      assert.equal(await a.ssfStreams.lease('ssf_1', 'e1', NOW + 2000, NOW + 3000), false);
    });

    test('a cursor starts at 0 and only moves forward', async () => {
      const { a, b } = fixture();
      assert.equal(await a.ssfStreams.cursor('t'), 0);
      await a.ssfStreams.advanceCursor('t', 10);
      await b.ssfStreams.advanceCursor('t', 7);
      assert.equal(await b.ssfStreams.cursor('t'), 10);
      await b.ssfStreams.advanceCursor('t', 12);
      assert.equal(await a.ssfStreams.cursor('t'), 12);
    });
  });
}
