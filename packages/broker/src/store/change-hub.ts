import type { ChangeFeed, ChangeListener, ChangeSubscription, SubscribeOptions } from '../ports/change-feed.ts';
import { DEFAULT_POLL_INTERVAL_MS, pollChanges, type PollingSubscription } from './change-subscription.ts';

/** Starts and stops what pushes changes to this process (PostgreSQL: the one LISTEN connection). */
export interface PushChannel {
  /** Called with the first subscription; `wakeAll` on every notification and after every (re)connect. */
  open(): void;
  /** Called when the last subscription closes. */
  close(): Promise<void>;
}

export interface ChangeHub {
  subscribe(listener: ChangeListener, options?: SubscribeOptions): ChangeSubscription;
  /** Every subscription reads the feed now: a change committed in this process, or a notification. */
  wakeAll(): void;
  /** Tells every subscription that the push channel failed (each keeps polling meanwhile). */
  fail(error: Error): void;
}

/**
 * The subscriptions of one process to one store's feed (key sync, metrics, the SSF transmitter)
 * share one push channel: one LISTEN connection per replica, not one per subscriber. Each keeps
 * its own cursor and polling fallback (`pollIntervalMs`, the documented bound), so after a
 * reconnect or a lost notification every subscriber re-reads the feed from where it was.
 */
export function createChangeHub(feed: Pick<ChangeFeed, 'since' | 'latest'>, channel: PushChannel | null = null): ChangeHub {
  const subscriptions = new Map<PollingSubscription, SubscribeOptions>();
  return {
    subscribe(listener, options = {}) {
      const polling = pollChanges(feed, listener, { intervalMs: options.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS, ...options });
      subscriptions.set(polling, options);
      if (subscriptions.size === 1) channel?.open();
      let closed = false;
      return {
        async close() {
          if (closed) return;
          closed = true;
          subscriptions.delete(polling);
          if (subscriptions.size === 0) await channel?.close();
          await polling.close();
        },
      };
    },
    wakeAll: () => {
      for (const [polling, options] of subscriptions) {
        options.onWake?.();
        polling.wake();
      }
    },
    fail: (error) => {
      for (const options of subscriptions.values()) options.onError?.(error);
    },
  };
}
