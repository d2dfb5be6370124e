import { MandateError } from '../core/errors.ts';
import { effectiveStatus, type Approval, type Mandate, type MandateStatus } from '../core/mandate.ts';
import type { MandateFilter } from '../ports/mandates.ts';
import type { ActionContext } from './action-context.ts';
import type { LoopDeps } from './loop-deps.ts';

const LIVE = ['pending', 'approved', 'active', 'suspended'] as const;

export interface DecisionProof {
  method: Approval['method'];
  proof: Record<string, unknown>;
}

/** Decisions humans take on mandates: approve, deny, revoke (PROTOCOL §4, §8). Audited first. */
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

  const move = async (mandate: Mandate, from: MandateStatus[], patch: Parameters<typeof store.mandates.transition>[2]) => {
    if (!(await store.mandates.transition(mandate.id, from, patch))) throw new MandateError('ERR_MANDATE_STATE', 'the mandate changed meanwhile');
    return (await store.mandates.get(mandate.id))!;
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
      await deps.audit.record({
        type: 'mandate.approved', actor: ctx.actor, approver: ctx.actor, mandateId: id, evidenceDigest: mandate.attestationDigest,
        requestId: ctx.requestId, data: { method: decision.method, task_s256: mandate.taskS256, ...decision.proof },
      });
      return approved;
    },

    async deny(id: string, ctx: ActionContext): Promise<Mandate> {
      const mandate = await decidable(id, ctx);
      const denied = await move(mandate, ['pending'], { status: 'denied', decidedAt: clock.now() });
      await deps.audit.record({ type: 'mandate.denied', actor: ctx.actor, approver: ctx.actor, mandateId: id, requestId: ctx.requestId });
      return denied;
    },

    /** Revokes a mandate and every credential minted under it. */
    async revoke(id: string, reason: string, ctx: ActionContext): Promise<Mandate> {
      const mandate = await load(id);
      const live: MandateStatus[] = ['pending', 'approved', 'active', 'suspended'];
      if (!live.includes(mandate.status)) throw new MandateError('ERR_MANDATE_STATE', `the mandate is ${mandate.status}`);
      const revoked = await move(mandate, live, { status: 'revoked', endedAt: clock.now(), endReason: reason });
      const credentials = await store.credentials.revokeByMandate(id, clock.now());
      await store.changes.publish('mandate.revoked', id, clock.now());
      await deps.audit.record({
        type: 'mandate.revoked', actor: ctx.actor, approver: mandate.approverId, mandateId: id, requestId: ctx.requestId,
        data: { reason, credentials_revoked: credentials },
      });
      return revoked;
    },
  };
}

export type DecisionService = ReturnType<typeof createDecisionService>;

function notFound(id: string): never {
  throw new MandateError('ERR_MANDATE_NOT_FOUND', `no mandate ${id}`);
}
