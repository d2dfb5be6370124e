import { describeNotification } from '../core/notification.ts';
import type { Clock } from '../ports/clock.ts';
import type { Notification, NotificationSink } from '../ports/notification-sink.ts';

/** Where a notification goes once it is in the outbox: live console pages and the webhook queue. */
export interface NotificationChannels {
  /** Pushes an event to the human's open console pages; returns how many streams got it. */
  live(humanId: string, event: string, data: unknown, id?: number): number;
  /** Queues the notification for the webhooks that take its kind, then starts delivering. */
  webhooks(notification: Notification): Promise<unknown>;
  /** Runs the webhook attempts (first tries and retries) that are due now; resolves to how many were made. */
  deliverDue(): Promise<number>;
}

export interface NotifierDeps {
  sink: NotificationSink;
  clock: Clock;
  channels: NotificationChannels;
}

/** What the inbox and the live stream show of a notification. */
export function notificationToWire(n: Notification) {
  return {
    id: n.id, kind: n.kind, created_at: new Date(n.createdAt).toISOString(), read: n.readAt !== null,
    text: describeNotification(n.kind, n.payload), data: n.payload,
  };
}

const DISPATCH_BATCH = 100;

/**
 * The one way to notify a human: the outbox row is written first (so nothing is lost if the
 * process stops), then `dispatch` fans it out to live pages and webhooks and marks it delivered.
 * Rows enqueued directly on the store (or left by a crash) are fanned out by the next dispatch.
 */
export function createNotifier({ sink, clock, channels }: NotifierDeps) {
  let chain: Promise<number> = Promise.resolve(0);

  const fanOut = async (n: Notification): Promise<boolean> => {
    await channels.webhooks(n); // idempotent per (notification, webhook): safe before the claim
    if (!(await sink.markDelivered(n.id, clock.now()))) return false; // another dispatcher won it
    channels.live(n.recipient, 'notification', { ...notificationToWire(n), unread: await sink.unreadCount(n.recipient) }, n.id);
    return true;
  };

  const drain = async (): Promise<number> => {
    let count = 0;
    for (const n of await sink.pending(DISPATCH_BATCH)) if (await fanOut(n)) count += 1;
    return count;
  };

  /** Fans out everything pending; calls are serialised, so a notification is pushed once per process. */
  const dispatch = (): Promise<number> => {
    chain = chain.catch(() => 0).then(drain);
    return chain;
  };

  return {
    async notify(recipient: string, kind: string, payload: Record<string, unknown>): Promise<number> {
      const id = await sink.enqueue(recipient, kind, payload, clock.now());
      // Stored is what counts: a failed push is retried by the next dispatch, never the notifier's caller's problem.
      await dispatch().catch(() => 0);
      return id;
    },
    dispatch,
    /** Webhook attempts due now (the deliverer also polls on its own; tests and `serve`'s sweep call this). */
    deliverDue: (): Promise<number> => channels.deliverDue(),
    unreadCount: (humanId: string): Promise<number> => sink.unreadCount(humanId),
    list: (humanId: string, options: { unreadOnly?: boolean; limit: number }) => sink.listForRecipient(humanId, options),
    /** Marks the human's own notifications read and tells their open pages the new count. */
    async markRead(humanId: string, ids: readonly number[] | 'all'): Promise<number> {
      const changed = await sink.markRead(humanId, ids, clock.now());
      if (changed > 0) channels.live(humanId, 'unread', { unread: await sink.unreadCount(humanId) });
      return changed;
    },
  };
}

export type Notifier = ReturnType<typeof createNotifier>;
