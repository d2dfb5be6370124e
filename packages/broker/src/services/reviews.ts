import { MandateError } from '../core/errors.ts';
import { hasRight } from '../core/model.ts';
import { effectiveStatus, type Mandate } from '../core/mandate.ts';
import type { MandateReview, ReviewDecision } from '../ports/reviews.ts';
import type { ActionContext } from './action-context.ts';
import type { DecisionService } from './decide.ts';
import type { LoopDeps } from './loop-deps.ts';
import type { Notifier } from './notifications.ts';
import type { RevocationService } from './revocation.ts';
import { commitRevocation } from './revocation-commit.ts';

export interface ReviewSettings {
  /** 0: reviews are off. */
  reviewEvery: number;
  gracePeriod: number;
}

export interface ReviewDeps extends Pick<LoopDeps, 'store' | 'audit' | 'clock'> {
  settings: ReviewSettings;
  notifier: Pick<Notifier, 'notify'>;
  decisions: DecisionService;
  revocation: RevocationService;
}

export interface ReviewListing {
  /** The owner's agents only (default), or every mandate (`all`, admins). */
  all: boolean;
  dueOnly: boolean;
  limit: number;
}

export interface SweepResult {
  scheduled: number;
  reminded: number;
  suspended: number;
}

const SCHEDULE_BATCH = 500;
const SWEEP_BATCH = 500;
/** How many of a mandate's audit events are read to find its latest resume. */
const AUDIT_LOOKBACK = 1000;

/**
 * Access reviews (DESIGN step 10): each active, human-approved mandate is due for certification
 * `reviewEvery` after its approval and after each review. An owner of its agent (or an admin)
 * keeps or revokes it; the sweep reminds owners when due and suspends what stays unreviewed past
 * the grace period (PROTOCOL §8: a suspended mandate resumes only with its approver's passkey).
 */
export function createReviewService(deps: ReviewDeps) {
  const { store, clock, settings } = deps;

  /** Gives each newly active mandate its first due date; returns how many were scheduled. */
  const scheduleNew = async (): Promise<number> => {
    let count = 0;
    for (let batch = await store.reviews.unscheduled(SCHEDULE_BATCH); batch.length > 0; batch = await store.reviews.unscheduled(SCHEDULE_BATCH)) {
      for (const m of batch) if (await store.reviews.schedule(m.mandateId, m.agentId, m.since + settings.reviewEvery)) count += 1;
      if (batch.length < SCHEDULE_BATCH) break;
    }
    return count;
  };

  /** The store keeps `active` past `notAfter` (it has no clock): such a mandate has expired and needs no review. */
  const stillActive = async (reviews: readonly MandateReview[]): Promise<MandateReview[]> => {
    const now = clock.now();
    const live = await Promise.all(reviews.map(async (r) => {
      const mandate = await store.mandates.get(r.mandateId);
      return mandate !== null && effectiveStatus(mandate, now) === 'active';
    }));
    return reviews.filter((_, i) => live[i]);
  };

  const ownersOf = async (agentId: string) => (await store.agents.get(agentId))?.owners ?? [];

  const checkReviewer = async (mandate: Mandate, ctx: ActionContext) => {
    if (hasRight(ctx.callerRights ?? [], 'admin') || (await ownersOf(mandate.agentId)).includes(ctx.actor)) return;
    throw new MandateError('ERR_REVIEW_NOT_OWNER', 'only an owner of the mandate\'s agent (or an admin) may review it');
  };

  /** The review row of an active mandate, scheduling it first if the sweep has not yet. */
  const reviewOf = async (mandate: Mandate): Promise<MandateReview> => {
    const since = mandate.decidedAt ?? mandate.createdAt;
    await store.reviews.schedule(mandate.id, mandate.agentId, since + settings.reviewEvery);
    return (await store.reviews.get(mandate.id))!;
  };

  /**
   * PROTOCOL §8, like an agent suspension but for one mandate: its tokens and those below it end
   * now. The transition, the tokens of the mandate and of every mandate delegated below it (the
   * statement walks the tree itself), the change that tells replicas and the revocation push, and
   * the audit event commit in one transaction (commitRevocation): a failure leaves the mandate
   * active and due, for the next sweep.
   */
  const suspendOverdue = async (review: MandateReview): Promise<boolean> => {
    const mandate = await store.mandates.get(review.mandateId);
    if (!mandate) return false;
    const { applied } = await commitRevocation(deps, {
      mandate: { id: mandate.id, from: ['active'], patch: { status: 'suspended', endReason: 'review_overdue' } },
      credentials: { mandateTree: mandate.id },
      change: { topic: 'mandate.suspended', key: mandate.id, at: clock.now() },
    }, ({ credentialsRevoked }) => [{
      type: 'mandate.suspended', actor: null, approver: mandate.approverId, mandateId: mandate.id,
      data: { reason: 'review_overdue', by: 'review_sweep', due_at: new Date(review.dueAt).toISOString(), credentials_revoked: credentialsRevoked },
    }]);
    if (!applied) return false;
    const payload = { mandate_id: mandate.id, agent_id: mandate.agentId, reason: 'review_overdue' };
    for (const human of new Set([...(await ownersOf(mandate.agentId)), mandate.approverId])) await deps.notifier.notify(human, 'mandate.suspended', payload);
    return true;
  };

  /**
   * PROTOCOL §8: the approver resumes a suspended mandate with a fresh passkey assertion; a resume
   * after the due date counts as its review, so the mandate is not suspended again at once.
   */
  const resumedSinceDue = async (review: MandateReview): Promise<boolean> => {
    const resumed = (await store.audit.byMandate(review.mandateId, AUDIT_LOOKBACK)).filter((e) => e.type === 'mandate.resumed' && e.time > review.dueAt).at(-1);
    if (!resumed) return false;
    await store.reviews.record(review.mandateId, review.dueAt, { at: resumed.time, by: resumed.actor ?? 'unknown', decision: 'keep', nextDueAt: resumed.time + settings.reviewEvery });
    return true;
  };

  const remind = async (review: MandateReview): Promise<boolean> => {
    if (!(await store.reviews.markReminded(review.mandateId, clock.now()))) return false;
    const payload = { mandate_id: review.mandateId, agent_id: review.agentId, due_at: new Date(review.dueAt).toISOString() };
    for (const owner of await ownersOf(review.agentId)) await deps.notifier.notify(owner, 'review.due', payload);
    return true;
  };

  return {
    enabled: settings.reviewEvery > 0,
    scheduleNew,

    /** Reviews of active mandates, soonest due first: the caller's agents, or all for an admin. */
    async list(listing: ReviewListing, ctx: ActionContext): Promise<MandateReview[]> {
      if (settings.reviewEvery === 0) return [];
      if (listing.all && !hasRight(ctx.callerRights ?? [], 'admin')) throw new MandateError('ERR_ADMIN_FORBIDDEN', 'listing every review needs the admin right', { right: 'admin' });
      await scheduleNew();
      const agentIds = listing.all ? undefined : (await store.agents.listByOwner(ctx.actor)).map((a) => a.id);
      return stillActive(await store.reviews.list({ ...(listing.dueOnly ? { dueBy: clock.now() } : {}), ...(agentIds ? { agentIds } : {}) }, listing.limit));
    },

    /** Keep (next due `reviewEvery` from now) or revoke (with everything below it); audited as `mandate.reviewed`. */
    async review(id: string, decision: ReviewDecision, note: string | null, ctx: ActionContext): Promise<{ mandate: Mandate; review: MandateReview }> {
      if (settings.reviewEvery === 0) throw new MandateError('ERR_REVIEW_DISABLED', 'access reviews are off (reviews.reviewEvery)');
      const mandate = await deps.decisions.get(id);
      await checkReviewer(mandate, ctx);
      if (mandate.status !== 'active' || mandate.hop) throw new MandateError('ERR_MANDATE_STATE', mandate.hop ? 'a delegated mandate is reviewed with its root' : `the mandate is ${mandate.status}`);
      const current = await reviewOf(mandate);
      const nextDueAt = clock.now() + settings.reviewEvery;
      // Audited before it takes effect: a kept mandate lives on only once the keep is on record.
      await deps.audit.record({
        type: 'mandate.reviewed', actor: ctx.actor, approver: mandate.approverId, mandateId: id, requestId: ctx.requestId,
        data: { decision, reviewer: ctx.actor, ...(note ? { note } : {}), due_at: new Date(current.dueAt).toISOString(), ...(decision === 'keep' ? { next_due_at: new Date(nextDueAt).toISOString() } : {}) },
      });
      if (!(await store.reviews.record(id, current.dueAt, { at: clock.now(), by: ctx.actor, decision, nextDueAt })))
        throw new MandateError('ERR_MANDATE_STATE', 'the mandate was reviewed meanwhile');
      const after = decision === 'revoke' ? await deps.revocation.revokeTree(id, 'review_revoked', ctx) : mandate;
      return { mandate: after, review: (await store.reviews.get(id))! };
    },

    /** One sweep: schedule new mandates, remind owners of due reviews, suspend overdue ones. */
    async sweep(): Promise<SweepResult> {
      const result: SweepResult = { scheduled: 0, reminded: 0, suspended: 0 };
      if (settings.reviewEvery === 0) return result;
      result.scheduled = await scheduleNew();
      // One review that fails (its commit, a notification) does not hold back those after it,
      // soonest due first: the sweep goes on, then fails with the first error.
      let failure: { error: unknown } | null = null;
      for (const review of await stillActive(await store.reviews.list({ dueBy: clock.now() }, SWEEP_BATCH))) {
        try {
          if (clock.now() >= review.dueAt + settings.gracePeriod) {
            if (!(await resumedSinceDue(review)) && (await suspendOverdue(review))) result.suspended += 1;
          } else if (review.remindedAt === null && (await remind(review))) result.reminded += 1;
        } catch (error) {
          failure ??= { error };
        }
      }
      if (failure) throw failure.error;
      return result;
    },
  };
}

export type ReviewService = ReturnType<typeof createReviewService>;
