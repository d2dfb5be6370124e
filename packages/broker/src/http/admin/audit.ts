import { z } from 'zod';
import { defineRoute, respond, type RouteContext } from '../route-spec.ts';
import { auditEventToWire } from './wire.ts';

export const MAX_AUDIT_PAGE = 1000;

const query = z.strictObject({
  limit: z
    .string()
    .regex(/^[1-9][0-9]{0,3}$/, 'must be an integer from 1 to 1000')
    .transform(Number)
    .refine((n) => n <= MAX_AUDIT_PAGE, 'must be an integer from 1 to 1000')
    .optional(),
});

async function tailEvents(ctx: RouteContext<{ query: typeof query }>): Promise<void> {
  const events = await ctx.deps.store.audit.tail(ctx.query.limit ?? 100);
  respond(ctx, 200, { events: events.map(auditEventToWire) });
}

export const auditRoutes = [
  defineRoute({
    method: 'GET', path: '/admin/v1/audit/events', family: 'admin', body: 'none', right: 'audit:read',
    summary: 'The newest audit events across chains, newest last', schema: { query }, steps: [tailEvents],
  }),
];
