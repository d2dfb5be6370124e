import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { describe, test } from 'node:test';
import { createChangeHub, type ChangeHub } from '../change-hub.ts';
import { listenChannel, type ListenClient } from './change-feed.ts';

/** A pg.Client stand-in whose connect the test resolves; `end` emits 'end' a tick later, as pg does. */
class FakeClient extends EventEmitter {
  ended = false;
  listening = false;
  private release: () => void = () => undefined;
  private readonly connected = new Promise<void>((resolve) => (this.release = resolve));
  connect = () => this.connected;
  finishConnect(): void {
    this.release();
  }
  query = async (text: string) => {
    this.listening = text.startsWith('listen ');
    return { rows: [] };
  };
  end = async () => {
    this.ended = true;
    setImmediate(() => this.emit('end'));
  };
}

const turn = () => new Promise((resolve) => setImmediate(resolve));

/** A hub over an empty feed whose push channel makes FakeClients; counts wake-ups and reported errors. */
function fakeHub() {
  const clients: FakeClient[] = [];
  const errors: string[] = [];
  let wakes = 0;
  const hub: ChangeHub = createChangeHub(
    { since: async () => [], latest: async () => 0 },
    listenChannel({ url: 'postgres://127.0.0.1:1/unused' }, () => hub, () => {
      clients.push(new FakeClient());
      return clients.at(-1) as unknown as ListenClient;
    }),
  );
  const subscribe = () => hub.subscribe(() => undefined, { pollIntervalMs: 60_000, onError: (e) => void errors.push(e.message), onWake: () => void wakes++ });
  return { clients, errors, subscribe, wakes: () => wakes };
}

describe('the LISTEN channel (review finding 9)', () => {
  test('close then reopen during a pending connect: the old client\'s late connect, end and error leave the new one alone', async () => {
    const { clients, errors, subscribe, wakes } = fakeHub();
    await (subscribe()).close();
    const second = subscribe();
    const [old, current] = clients as [FakeClient, FakeClient];
    assert.equal(clients.length, 2);
    current.finishConnect();
    await turn();
    assert.ok(current.listening);
    old.finishConnect(); // the old connect completes late: that client is ended, not adopted
    await turn();
    await turn();
    old.emit('end');
    old.emit('error', new Error('read ECONNRESET')); // unheard, this would crash the process
    await turn();
    assert.equal(current.ended, false, 'the current listener is not torn down');
    assert.deepEqual(errors, [], 'no spurious failure reported');
    assert.equal(clients.length, 2, 'no reconnect started');
    const before = wakes();
    current.emit('notification', { channel: 'mandate_changes', payload: '1' });
    assert.equal(wakes(), before + 1, 'notifications of the current client still wake the subscribers');
    old.emit('notification', { channel: 'mandate_changes', payload: '2' });
    assert.equal(wakes(), before + 1, 'the old client wakes no one');
    await second.close();
    assert.equal(current.ended, true);
    current.emit('error', new Error('late error after close')); // still heard (no-op): no crash
  });

  test('the current client\'s end is reported once and a new client is made after the backoff', async () => {
    const { clients, errors, subscribe } = fakeHub();
    const subscription = subscribe();
    clients[0]!.finishConnect();
    await turn();
    clients[0]!.emit('end');
    clients[0]!.emit('error', new Error('after end'));
    assert.deepEqual(errors, ['change feed listener disconnected']);
    assert.equal(clients[0]!.ended, true);
    await new Promise((resolve) => setTimeout(resolve, 700)); // RECONNECT_MIN_MS = 500
    assert.equal(clients.length, 2);
    await subscription.close();
    assert.equal(clients[1]!.ended, true);
  });
});
