import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createSseHub, formatSseEvent, type SseClient } from './sse-hub.ts';

function client(): SseClient & { chunks: string[]; ended: boolean } {
  const c = { chunks: [] as string[], ended: false, write: (chunk: string) => void c.chunks.push(chunk), end: () => void (c.ended = true) };
  return c;
}

test('formatSseEvent frames one event: id, event, one data line, blank line', () => {
  assert.equal(formatSseEvent('unread', { unread: 2, text: 'a\nb' }, 7), 'id: 7\nevent: unread\ndata: {"unread":2,"text":"a\\nb"}\n\n');
  assert.equal(formatSseEvent('unread', { unread: 0 }), 'event: unread\ndata: {"unread":0}\n\n');
});

test('publish reaches every stream of that human only; unsubscribe removes one', () => {
  const hub = createSseHub({ maxPerHuman: 5, heartbeatMs: 60_000 });
  const [a1, a2, b] = [client(), client(), client()];
  const off = hub.subscribe('usr_a', a1);
  hub.subscribe('usr_a', a2);
  hub.subscribe('usr_b', b);
  assert.equal(hub.publish('usr_a', 'notification', { id: 1 }), 2);
  assert.equal(b.chunks.length, 0);
  off();
  assert.equal(hub.publish('usr_a', 'notification', { id: 2 }), 1);
  assert.deepEqual([a1.chunks.length, a2.chunks.length], [1, 2]);
  assert.equal(hub.publish('usr_nobody', 'x', {}), 0);
  hub.close();
});

test('beyond maxPerHuman the oldest stream is ended and dropped', () => {
  const hub = createSseHub({ maxPerHuman: 2, heartbeatMs: 60_000 });
  const streams = [client(), client(), client()];
  for (const s of streams) hub.subscribe('usr_a', s);
  assert.equal(hub.count('usr_a'), 2);
  assert.deepEqual(streams.map((s) => s.ended), [true, false, false]);
  hub.publish('usr_a', 'x', {});
  assert.deepEqual(streams.map((s) => s.chunks.length), [0, 1, 1]);
  hub.close();
});

test('a stream whose write throws does not stop the others', () => {
  const hub = createSseHub({ maxPerHuman: 5, heartbeatMs: 60_000 });
  const good = client();
  hub.subscribe('usr_a', { write: () => { throw new Error('EPIPE'); }, end: () => undefined });
  hub.subscribe('usr_a', good);
  hub.publish('usr_a', 'x', {});
  assert.equal(good.chunks.length, 1);
  hub.close();
});

test('heartbeat comments go to every open stream; close ends them all and stops the timer', async () => {
  const hub = createSseHub({ maxPerHuman: 5, heartbeatMs: 20 });
  const [a, b] = [client(), client()];
  hub.subscribe('usr_a', a);
  hub.subscribe('usr_b', b);
  // Timers run late on a loaded machine: wait (up to 5 s) for two beats rather than a fixed time.
  for (let waited = 0; (a.chunks.length < 2 || b.chunks.length < 2) && waited < 5000; waited += 10) await new Promise((resolve) => setTimeout(resolve, 10));
  assert.ok(a.chunks.length >= 2 && b.chunks.length >= 2 && a.chunks.every((c) => c === ': keep-alive\n\n'), JSON.stringify(a.chunks));
  hub.close();
  assert.deepEqual([a.ended, b.ended, hub.count('usr_a'), hub.count('usr_b')], [true, true, 0, 0]);
  const seen = a.chunks.length;
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.equal(a.chunks.length, seen);
});
