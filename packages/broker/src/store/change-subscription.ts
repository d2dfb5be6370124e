import type { Change, ChangeFeed, ChangeListener, ChangeSubscription } from '../ports/change-feed.ts';

export interface PollingOptions {
  /** Deliver changes after this cursor; default: the newest cursor when subscribing (only new changes). */
  from?: number;
  /** The polling fallback: the longest a change waits when no wake-up arrives (the documented bound). */
  intervalMs: number;
  /** Called when a read or the listener fails; the cursor stays, so the change is retried. */
  onError?: (error: Error) => void;
}

export interface PollingSubscription extends ChangeSubscription {
  /** Read now (a LISTEN notification arrived, or a reconnect may have missed one). */
  wake(): void;
}

const PAGE = 100;

/** Default polling fallback (config `store.pollInterval`): the bound on how late a change arrives. */
export const DEFAULT_POLL_INTERVAL_MS = 5_000;

/**
 * Delivers every change after the start cursor, in cursor order, each once while the process
 * lives (at least once: a failed listener sees the change again). Reads on every `wake()` and
 * at least every `intervalMs`; reads never overlap.
 */
export function pollChanges(feed: Pick<ChangeFeed, 'since' | 'latest'>, listener: ChangeListener, options: PollingOptions): PollingSubscription {
  let cursor: number | undefined = options.from;
  let running: Promise<void> | null = null;
  let again = false;
  let closed = false;
  const report = (error: unknown) => options.onError?.(error instanceof Error ? error : new Error(String(error)));

  const drain = async () => {
    cursor ??= await feed.latest();
    for (let page: Change[]; !closed && (page = await feed.since(cursor, PAGE)).length > 0; ) {
      for (const change of page) {
        if (closed) return;
        await listener(change);
        cursor = change.cursor;
      }
    }
  };
  const wake = () => {
    if (closed) return;
    if (running) {
      again = true;
      return;
    }
    running = drain().catch(report).finally(() => {
      running = null;
      if (again) {
        again = false;
        wake();
      }
    });
  };
  const timer = setInterval(wake, options.intervalMs);
  timer.unref();
  wake();
  return {
    wake,
    async close() {
      closed = true;
      clearInterval(timer);
      await running;
    },
  };
}

/** A feed without push (SQLite): `subscribe` polls, every `pollIntervalMs`. */
export function withPollingSubscribe(feed: ChangeFeed): ChangeFeed {
  return {
    ...feed,
    subscribe: (listener, options = {}) => pollChanges(feed, listener, { intervalMs: options.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS, ...options }),
  };
}
