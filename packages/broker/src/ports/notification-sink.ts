/** Outbox for notifications to humans (console inbox, live pages, webhooks); delivered at least once. */
export interface Notification {
  id: number;
  recipient: string;
  kind: string;
  payload: Record<string, unknown>;
  createdAt: number;
  /** When the notifier handed it to every channel (live pages, webhook queue). */
  deliveredAt: number | null;
  /** When its recipient marked it read in the inbox; null while unread. */
  readAt: number | null;
}

export interface NotificationSink {
  enqueue(recipient: string, kind: string, payload: Record<string, unknown>, at: number): Promise<number>;
  /** Undelivered notifications, oldest first. */
  pending(limit: number): Promise<Notification[]>;
  markDelivered(id: number, at: number): Promise<boolean>;
  /** The recipient's notifications, newest first (`id` descending); only unread ones with `unreadOnly`. */
  listForRecipient(recipient: string, options: { unreadOnly?: boolean; limit: number }): Promise<Notification[]>;
  unreadCount(recipient: string): Promise<number>;
  /**
   * Marks the recipient's own unread notifications read: those in `ids`, or every one with `'all'`.
   * Others' notifications and ones read before are left alone. Returns how many changed.
   */
  markRead(recipient: string, ids: readonly number[] | 'all', at: number): Promise<number>;
}
