import { z } from 'zod';
import { MandateError } from '../../core/errors.ts';
import type { WebhookAttempt, WebhookDelivery } from '../../ports/webhook-deliveries.ts';
import { defineRoute, respond, type RouteContext } from '../route-spec.ts';
import { isoTime } from './wire.ts';

const listQuery = z.strictObject({
  status: z.enum(['pending', 'delivered', 'failed']).optional(),
  webhook: z.string().regex(/^[a-z0-9-]{1,64}$/).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});
const idParams = z.strictObject({ id: z.string() });
const iso = (ms: number | null) => (ms === null ? null : isoTime(ms));

/** The delivery log on the wire; the signed body is left out (it may name humans), the secret is never stored. */
function deliveryToWire(d: WebhookDelivery) {
  return {
    id: d.id, webhook: d.webhook, notification_id: d.notificationId, kind: d.kind, status: d.status, attempts: d.attempts,
    next_attempt_at: iso(d.nextAttemptAt), last_status_code: d.lastStatusCode, last_error: d.lastError,
    created_at: isoTime(d.createdAt), delivered_at: iso(d.deliveredAt),
  };
}

function attemptToWire(a: WebhookAttempt) {
  return { attempt: a.attempt, at: isoTime(a.at), status_code: a.statusCode, error_class: a.errorClass, duration_ms: a.durationMs, next_attempt_at: iso(a.nextAttemptAt) };
}

async function listDeliveries(ctx: RouteContext<{ query: typeof listQuery }>): Promise<void> {
  const { status, webhook, limit } = ctx.query;
  const deliveries = await ctx.deps.store.webhookDeliveries.list({ ...(status ? { status } : {}), ...(webhook ? { webhook } : {}) }, limit);
  respond(ctx, 200, { deliveries: deliveries.map(deliveryToWire) });
}

async function showDelivery(ctx: RouteContext<{ params: typeof idParams }>): Promise<void> {
  const delivery = await ctx.deps.store.webhookDeliveries.get(ctx.params.id);
  if (!delivery) throw new MandateError('ERR_DELIVERY_NOT_FOUND', `no delivery ${ctx.params.id}`);
  const attempts = await ctx.deps.store.webhookDeliveries.attempts(delivery.id);
  respond(ctx, 200, { ...deliveryToWire(delivery), attempts: attempts.map(attemptToWire) });
}

export const notificationRoutes = [
  defineRoute({
    method: 'GET', path: '/admin/v1/notifications/deliveries', family: 'admin', body: 'none', right: 'admin',
    summary: 'The webhook delivery log, newest first (status, attempts, last status code or error class, next attempt)',
    schema: { query: listQuery }, steps: [listDeliveries],
  }),
  defineRoute({
    method: 'GET', path: '/admin/v1/notifications/deliveries/:id', family: 'admin', body: 'none', right: 'admin',
    summary: 'One webhook delivery with every attempt', schema: { params: idParams }, steps: [showDelivery],
  }),
];
