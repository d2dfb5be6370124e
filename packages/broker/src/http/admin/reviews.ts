import { z } from 'zod';
import type { MandateReview } from '../../ports/reviews.ts';
import { defineRoute, respond, type RouteContext } from '../route-spec.ts';
import { actionContext } from './authenticate.ts';
import { mandateToWire } from './mandates.ts';
import { isoTime } from './wire.ts';

const flag = z.enum(['true', 'false']).transform((v) => v === 'true');
const listQuery = z.strictObject({
  due: flag.default(false),
  all: flag.default(false),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});
const idParams = z.strictObject({ id: z.string() });
const reviewBody = z.strictObject({
  decision: z.enum(['keep', 'revoke']),
  note: z.string().min(1).max(500).regex(/^[^\p{Cc}]+$/u, 'must not contain control characters').optional(),
});

/** A review on the wire: when it is due, when the mandate would be suspended, and the last decision. */
export function reviewToWire(r: MandateReview, now: number, gracePeriod: number) {
  const iso = (ms: number | null) => (ms === null ? null : isoTime(ms));
  return {
    mandate_id: r.mandateId, agent_id: r.agentId, due_at: isoTime(r.dueAt), due: now >= r.dueAt, suspends_at: isoTime(r.dueAt + gracePeriod),
    reminded_at: iso(r.remindedAt), last_reviewed_at: iso(r.reviewedAt), last_reviewed_by: r.reviewedBy, last_decision: r.decision,
  };
}

async function listReviews(ctx: RouteContext<{ query: typeof listQuery }>): Promise<void> {
  const { due, all, limit } = ctx.query;
  const reviews = await ctx.deps.reviews.list({ all, dueOnly: due, limit }, actionContext(ctx));
  const now = ctx.deps.clock.now();
  respond(ctx, 200, { enabled: ctx.deps.reviews.enabled, reviews: reviews.map((r) => reviewToWire(r, now, ctx.deps.config.reviews.gracePeriod)) });
}

async function reviewMandate(ctx: RouteContext<{ params: typeof idParams; body: typeof reviewBody }>): Promise<void> {
  const { mandate, review } = await ctx.deps.reviews.review(ctx.params.id, ctx.body.decision, ctx.body.note ?? null, actionContext(ctx));
  respond(ctx, 200, { mandate: mandateToWire(mandate), review: reviewToWire(review, ctx.deps.clock.now(), ctx.deps.config.reviews.gracePeriod) });
}

export const reviewRoutes = [
  defineRoute({
    method: 'GET', path: '/admin/v1/reviews', family: 'admin', body: 'none', right: 'mandates:review',
    summary: 'Access reviews of active mandates, soonest due first: the caller\'s agents, or every one with all=true (admin)',
    schema: { query: listQuery }, steps: [listReviews],
  }),
  defineRoute({
    method: 'POST', path: '/admin/v1/mandates/:id/review', family: 'admin', body: 'json', right: 'mandates:review',
    summary: 'Certify an active mandate (keep: next review due reviewEvery from now) or revoke it with everything below it; owners of its agent or admins',
    schema: { params: idParams, body: reviewBody }, steps: [reviewMandate],
  }),
];
