/** Signed webhook deliveries (docs/notifications.md): the queue of attempts and its log. */
export type DeliveryStatus = 'pending' | 'delivered' | 'failed';

export interface WebhookDelivery {
  id: string;
  /** The configured webhook's name. */
  webhook: string;
  notificationId: number;
  kind: string;
  /** The exact JSON body signed and sent on every attempt. */
  body: string;
  status: DeliveryStatus;
  attempts: number;
  /** When the next attempt is due; null once delivered or given up. */
  nextAttemptAt: number | null;
  lastStatusCode: number | null;
  /** An error class (`timeout`, `connection`, `http_5xx` …), never a message with secrets. */
  lastError: string | null;
  createdAt: number;
  deliveredAt: number | null;
}

export interface WebhookAttempt {
  deliveryId: string;
  /** 1 for the first attempt. */
  attempt: number;
  at: number;
  statusCode: number | null;
  errorClass: string | null;
  durationMs: number;
  nextAttemptAt: number | null;
}

export interface WebhookDeliveryRepository {
  /** Fails when the id is taken. */
  insert(delivery: WebhookDelivery): Promise<void>;
  get(id: string): Promise<WebhookDelivery | null>;
  /** Pending deliveries due at or before `at`, soonest first. */
  due(at: number, limit: number): Promise<WebhookDelivery[]>;
  /**
   * Leases a pending delivery for one attempt: moves `nextAttemptAt` from `expected` to `until`.
   * Of concurrent callers (replicas) exactly one gets true.
   */
  claim(id: string, expected: number, until: number): Promise<boolean>;
  /** Appends the attempt to the log and sets the delivery's outcome (repeating an attempt number changes nothing in the log). */
  recordAttempt(attempt: WebhookAttempt, outcome: { status: DeliveryStatus; deliveredAt: number | null }): Promise<void>;
  /** Newest first (`createdAt`, then `id`, descending). */
  list(filter: { status?: DeliveryStatus; webhook?: string }, limit: number): Promise<WebhookDelivery[]>;
  /** The delivery's attempts, first first. */
  attempts(deliveryId: string): Promise<WebhookAttempt[]>;
}
