import { createHash, createHmac } from 'node:crypto';
import { describeNotification, errorClassOf, nextAttemptAt, type RetrySchedule } from '../core/notification.ts';
import type { Clock } from '../ports/clock.ts';
import type { Notification } from '../ports/notification-sink.ts';
import type { Random } from '../ports/random.ts';
import type { WebhookDelivery, WebhookDeliveryRepository } from '../ports/webhook-deliveries.ts';

/** A configured webhook with its secret resolved from the environment (never from the file). */
export interface WebhookTarget {
  name: string;
  url: string;
  secret: string;
  /** Kinds it receives; null for all. */
  kinds: readonly string[] | null;
}

export interface WebhookDelivererOptions extends RetrySchedule {
  repository: WebhookDeliveryRepository;
  targets: readonly WebhookTarget[];
  clock: Clock;
  random: Random;
  timeoutMs: number;
  /** Test seam; the global fetch otherwise. */
  fetch?: typeof fetch;
  /** How often a pass looks for due retries (0: only when kicked or run by hand). */
  pollMs: number;
}

/**
 * `Mandate-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, t + "." + body)>` (the scheme
 * Stripe and Slack use): the timestamp is signed with the body so a receiver can refuse replays.
 */
export function signWebhook(secret: string, timestamp: number, body: string): string {
  return `t=${timestamp},v1=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/** One delivery per (notification, webhook): the same id on every replica, so a re-run adds nothing. */
export function deliveryId(notificationId: number, webhook: string): string {
  return `whd_${createHash('sha256').update(`${notificationId}/${webhook}`).digest('base64url').slice(0, 22)}`;
}

const LEASE_SLACK_MS = 60_000;
const BATCH = 50;

export function createWebhookDeliverer(options: WebhookDelivererOptions) {
  const { repository, clock } = options;
  const post = options.fetch ?? fetch;
  const byName = new Map(options.targets.map((t) => [t.name, t]));
  let running: Promise<number> | null = null;

  const bodyOf = (id: string, n: Notification) =>
    JSON.stringify({
      delivery_id: id, notification_id: n.id, kind: n.kind, recipient: n.recipient, created_at: new Date(n.createdAt).toISOString(),
      text: describeNotification(n.kind, n.payload), data: n.payload,
    });

  const send = async (target: WebhookTarget, d: WebhookDelivery): Promise<{ status: number } | { error: unknown }> => {
    const signature = signWebhook(target.secret, Math.floor(clock.now() / 1000), d.body);
    try {
      const response = await post(target.url, {
        method: 'POST', body: d.body, redirect: 'manual', signal: AbortSignal.timeout(options.timeoutMs),
        headers: { 'content-type': 'application/json', 'user-agent': 'Mandate-Webhook/1', 'mandate-delivery': d.id, 'mandate-event': d.kind, 'mandate-signature': signature },
      });
      await response.body?.cancel().catch(() => undefined);
      return { status: response.status };
    } catch (error) {
      return { error };
    }
  };

  /** One attempt of a claimed delivery, logged; 2xx delivers, anything else retries with backoff until the last attempt. */
  const attempt = async (d: WebhookDelivery) => {
    const target = byName.get(d.webhook);
    const started = clock.now();
    const outcome = target ? await send(target, d) : { error: { name: 'NotConfigured' } };
    const at = clock.now();
    const errorClass = target ? errorClassOf(outcome) : 'not_configured';
    const number = d.attempts + 1;
    const next = errorClass === null ? null : nextAttemptAt(options, number, at, Buffer.from(options.random.base64url(2), 'base64url').readUInt16BE(0) / 65_536);
    await repository.recordAttempt(
      { deliveryId: d.id, attempt: number, at, statusCode: 'status' in outcome ? outcome.status : null, errorClass, durationMs: Math.max(0, at - started), nextAttemptAt: next },
      { status: errorClass === null ? 'delivered' : next === null ? 'failed' : 'pending', deliveredAt: errorClass === null ? at : null },
    );
  };

  const pass = async (): Promise<number> => {
    let count = 0;
    for (const d of await repository.due(clock.now(), BATCH)) {
      // Another replica may hold it; the lease outlives one attempt, so a crashed holder's lapses.
      if (!(await repository.claim(d.id, d.nextAttemptAt!, clock.now() + options.timeoutMs + LEASE_SLACK_MS))) continue;
      await attempt(d);
      count += 1;
    }
    return count;
  };

  /** Runs one pass over due deliveries (never two at once in this process); resolves to the attempts made. */
  const runDue = (): Promise<number> => {
    running ??= pass().finally(() => {
      running = null;
    });
    return running;
  };

  const poll = options.pollMs > 0 ? setInterval(() => void runDue().catch(() => undefined), options.pollMs) : null;
  poll?.unref();

  return {
    /** Queues the notification for every webhook that takes its kind; idempotent per (notification, webhook). */
    async enqueue(n: Notification): Promise<string[]> {
      const ids: string[] = [];
      for (const target of options.targets) {
        if (target.kinds && !target.kinds.includes(n.kind)) continue;
        const id = deliveryId(n.id, target.name);
        if (!(await repository.get(id))) {
          await repository.insert({
            id, webhook: target.name, notificationId: n.id, kind: n.kind, body: bodyOf(id, n), status: 'pending', attempts: 0,
            nextAttemptAt: clock.now(), lastStatusCode: null, lastError: null, createdAt: clock.now(), deliveredAt: null,
          }).catch(async (error: unknown) => {
            if (!(await repository.get(id))) throw error; // a concurrent insert of the same delivery is fine
          });
        }
        ids.push(id);
      }
      return ids;
    },
    runDue,
    close(): void {
      if (poll) clearInterval(poll);
    },
  };
}

export type WebhookDeliverer = ReturnType<typeof createWebhookDeliverer>;
