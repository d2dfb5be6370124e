/** Outbox for notifications to humans (console inbox, webhooks); delivered at least once. */
export interface Notification {
  id: number;
  recipient: string;
  kind: string;
  payload: Record<string, unknown>;
  createdAt: number;
  deliveredAt: number | null;
}

export interface NotificationSink {
  enqueue(recipient: string, kind: string, payload: Record<string, unknown>, at: number): Promise<number>;
  /** Undelivered notifications, oldest first. */
  pending(limit: number): Promise<Notification[]>;
  markDelivered(id: number, at: number): Promise<boolean>;
}
