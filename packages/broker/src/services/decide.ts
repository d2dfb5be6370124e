import { MandateError } from '../core/errors.ts';
import { effectiveStatus, LIVE_STATUSES, type Approval, type Mandate, type MandateStatus } from '../core/mandate.ts';
import type { MandatePatch } from '../ports/mandates.ts';
import type { MandateFilter } from '../ports/mandates.ts';
import type { ActionContext } from './action-context.ts';
import type { LoopDeps } from './loop-deps.ts';
import { commitRevocation } from './revocation-commit.ts';

const LIVE = LIVE_STATUSES;
/** An exhausted mandate mints nothing more, but its last tokens live until `exp`: revoking ends them. */
const REVOCABLE: readonly MandateStatus[] = [...LIVE_STATUSES, 'exhausted'];

export interface DecisionProof {
  method: Approval['method'];
  proof: Record<string, unknown>;
}

/**
 * Decisions humans take on mandates: approve, deny, revoke (PROTOCOL §4, §8). Each change is
 * written, then audited before the answer; if the audit commit fails, an approval or denial is
 * put back to pending (so no token can flow from an unaudited approval). A revocation commits
 * with its audit event in one transaction: if that fails, nothing is revoked and the caller is
 * told so (503), never left believing an unaudited revocation happened.
 */
export function createDecisionService(deps: LoopDeps) {
  const { store, clock } = deps;

  const load = async (id: string): Promise<Mandate> => {
    const mandate = (await store.mandates.get(id)) ?? notFound(id);
    return { ...mandate, status: effectiveStatus(mandate, clock.now()) };
  };

  /** PROTOCOL §4: only the `login_hint` human decides, so `sub` == `approved_by` always. */
  const decidable = async (id: string, ctx: ActionContext) => {
    const mandate = await load(id);
    if (mandate.approverId !== ctx.actor) throw new MandateError('ERR_MANDATE_NOT_APPROVER', 'only the human named in the request may decide it');
    if (mandate.status !== 'pending') throw new MandateError('ERR_MANDATE_STATE', `the mandate is ${mandate.status}`);
    return mandate;
  };

  const move = async (mandate: Mandate, from: readonly MandateStatus[], patch: MandatePatch) => {
    if (!(await store.mandates.transition(mandate.id, from, patch))) throw new MandateError('ERR_MANDATE_STATE', 'the mandate changed meanwhile');
    return (await store.mandates.get(mandate.id))!;
  };

  /** Audits a decision; when the commit fails, the pending request is restored and the error rethrown. */
  const auditDecision = async (mandate: Mandate, to: MandateStatus, event: Parameters<typeof deps.audit.record>[0]) => {
    try {
      await deps.audit.record(event);
    } catch (error) {
      await store.mandates.transition(mandate.id, [to], { status: 'pending', approval: null, decidedAt: null });
      throw error;
    }
  };

  /** Ends a live or exhausted mandate and its credentials; false when it had ended already (a concurrent end). */
  const revokeOne = async (mandate: Mandate, reason: string, ctx: ActionContext): Promise<boolean> => {
    const at = clock.now();
    // The transition, the credentials, the change feed and the audit event: one transaction (docs/revocation.md).
    const { applied } = await commitRevocation(deps, {
      mandate: { id: mandate.id, from: REVOCABLE, patch: { status: 'revoked', endedAt: at, endReason: reason } },
      credentials: { mandateId: mandate.id },
      change: { topic: 'mandate.revoked', key: mandate.id, at },
    }, ({ credentialsRevoked }) => [{
      type: 'mandate.revoked', actor: ctx.actor, approver: mandate.approverId, mandateId: mandate.id, requestId: ctx.requestId,
      data: { reason, credentials_revoked: credentialsRevoked, parent_mandate_id: mandate.hop?.parentId ?? null },
    }]);
    return applied;
  };

  return {
    get: load,
    /**
     * Newest first, each with its status as of now (a request past its expiry reads `expired`, as in
     * `get`), filtered on that status. A stored live status may now read `expired`, so those rows are
     * candidates for `expired` too; a filtered page may then hold fewer than `limit`.
     */
    async list(filter: MandateFilter, limit: number): Promise<Mandate[]> {
      const { status, ...rest } = filter;
      const stored = status === undefined ? [undefined] : status === 'expired' ? ['expired' as const, ...LIVE] : [status];
      const rows = (await Promise.all(stored.map((s) => store.mandates.list({ ...rest, ...(s ? { status: s } : {}) }, limit)))).flat();
      const now = clock.now();
      return rows
        .map((m) => ({ ...m, status: effectiveStatus(m, now) }))
        .filter((m) => status === undefined || m.status === status)
        .sort((x, y) => y.createdAt - x.createdAt || (x.id < y.id ? 1 : x.id > y.id ? -1 : 0))
        .slice(0, limit);
    },

    async approve(id: string, decision: DecisionProof, ctx: ActionContext): Promise<Mandate> {
      const mandate = await decidable(id, ctx);
      const approval: Approval = { approvedBy: ctx.actor, approvedAt: clock.now(), method: decision.method, proof: decision.proof };
      const approved = await move(mandate, ['pending'], { status: 'approved', approval, decidedAt: approval.approvedAt });
      await auditDecision(mandate, 'approved', {
        type: 'mandate.approved', actor: ctx.actor, approver: ctx.actor, mandateId: id, evidenceDigest: mandate.attestationDigest,
        requestId: ctx.requestId, data: { method: decision.method, task_s256: mandate.taskS256, ...decision.proof },
      });
      return approved;
    },

    async deny(id: string, ctx: ActionContext): Promise<Mandate> {
      const mandate = await decidable(id, ctx);
      const denied = await move(mandate, ['pending'], { status: 'denied', decidedAt: clock.now() });
      await auditDecision(mandate, 'denied', { type: 'mandate.denied', actor: ctx.actor, approver: ctx.actor, mandateId: id, requestId: ctx.requestId });
      return denied;
    },

    /** Revokes a mandate, as just read with `get`, and every credential minted under it. */
    async revoke(mandate: Mandate, reason: string, ctx: ActionContext): Promise<Mandate> {
      if (!REVOCABLE.includes(mandate.status) || !(await revokeOne(mandate, reason, ctx))) throw new MandateError('ERR_MANDATE_STATE', `the mandate is ${mandate.status}`);
      return (await store.mandates.get(mandate.id))!;
    },

    /**
     * Cascades (PROTOCOL §8): revokes every mandate still live in the store, whatever its status as
     * of now (an expired one is ended too) and skipping any that ended meanwhile. Never throws for
     * a mandate's state, so a cascade cannot stop halfway.
     */
    async revokeAll(mandates: readonly Mandate[], reason: string, ctx: ActionContext): Promise<number> {
      let count = 0;
      let failure: unknown = null;
      for (const mandate of mandates) {
        try {
          if (await revokeOne(mandate, reason, ctx)) count += 1;
        } catch (error) {
          failure ??= error; // a failed item (the audit store down, say) does not stop the others
        }
      }
      if (failure !== null) throw failure;
      return count;
    },
  };
}

export type DecisionService = ReturnType<typeof createDecisionService>;

function notFound(id: string): never {
  throw new MandateError('ERR_MANDATE_NOT_FOUND', `no mandate ${id}`);
}
