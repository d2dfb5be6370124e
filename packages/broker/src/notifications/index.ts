import type { Config } from '../config/load.ts';
import { ConfigError } from '../config/load.ts';
import type { Clock } from '../ports/clock.ts';
import type { Random } from '../ports/random.ts';
import type { Store } from '../ports/store.ts';
import { createNotifier, type Notifier } from '../services/notifications.ts';
import { createSseHub, type SseHub } from './sse-hub.ts';
import { createWebhookDeliverer, type WebhookDeliverer, type WebhookTarget } from './webhook.ts';

export interface NotificationsDeps {
  store: Store;
  clock: Clock;
  random: Random;
  config: Config;
  /** Where webhook secrets are read (`secretEnv`); process.env in `serve`. */
  env: Record<string, string | undefined>;
  fetch?: typeof fetch;
}

export interface Notifications {
  notifier: Notifier;
  hub: SseHub;
  webhooks: WebhookDeliverer;
  close(): void;
}

const MIN_SECRET_LENGTH = 32;
const WEBHOOK_POLL_MS = 15_000;

/** Resolves each webhook's secret from the environment; a missing or short one fails at start with its dotted path. */
export function webhookTargets(config: Config, env: Record<string, string | undefined>): WebhookTarget[] {
  const issues: { path: string; message: string }[] = [];
  const targets = config.notifications.webhooks.map((w, i) => {
    const secret = env[w.secretEnv] ?? '';
    if (secret.length < MIN_SECRET_LENGTH)
      issues.push({ path: `notifications.webhooks.${i}.secretEnv`, message: `environment variable ${w.secretEnv} must hold a secret of at least ${MIN_SECRET_LENGTH} characters` });
    return { name: w.name ?? `webhook-${i + 1}`, url: w.url, secret, kinds: w.kinds ?? null };
  });
  const names = targets.map((t) => t.name);
  names.forEach((name, i) => {
    if (names.indexOf(name) !== i) issues.push({ path: `notifications.webhooks.${i}.name`, message: `duplicate webhook name ${name}` });
  });
  if (issues.length > 0) throw new ConfigError(issues);
  return targets;
}

/** The notifier with its two channels: the SSE hub of open console pages and the webhook deliverer. */
export function createNotifications(deps: NotificationsDeps): Notifications {
  const { config, clock } = deps;
  const settings = config.notifications;
  const hub = createSseHub({ maxPerHuman: settings.maxStreamsPerHuman, heartbeatMs: settings.heartbeat });
  const webhooks = createWebhookDeliverer({
    repository: deps.store.webhookDeliveries, targets: webhookTargets(config, deps.env), clock, random: deps.random,
    maxAttempts: settings.maxAttempts, initialBackoff: settings.initialBackoff, maxBackoff: settings.maxBackoff,
    timeoutMs: settings.timeout, pollMs: settings.webhooks.length > 0 ? WEBHOOK_POLL_MS : 0, ...(deps.fetch ? { fetch: deps.fetch } : {}),
  });
  const notifier = createNotifier({
    sink: deps.store.notifications, clock,
    channels: {
      live: (humanId, event, data, id) => hub.publish(humanId, event, data, id),
      webhooks: async (n) => {
        await webhooks.enqueue(n);
        // Delivery runs in the background: a slow receiver never holds up the request that notified.
        void webhooks.runDue().catch(() => undefined);
      },
      deliverDue: () => webhooks.runDue(),
    },
  });
  return {
    notifier, hub, webhooks,
    close() {
      webhooks.close();
      hub.close();
    },
  };
}
