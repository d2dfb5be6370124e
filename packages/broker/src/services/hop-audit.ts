import type { AuditEventType } from '../core/audit-chain.ts';
import { isMandateError } from '../core/errors.ts';
import type { LoopDeps } from './loop-deps.ts';

/**
 * Audit event types of sub-agent hops (PROTOCOL §10, §9). `mandate.delegated`: a sub-grant was
 * issued (its event names the new mandate, the parent in `data`); `delegation.rejected`: an
 * issuance or a redemption was refused, with its code.
 */
// The shared `AuditEventType` union (core/audit-chain.ts) does not list these two yet.
export const HOP_EVENT = { delegated: 'mandate.delegated', rejected: 'delegation.rejected' } as const satisfies Record<'delegated' | 'rejected', AuditEventType>;

/** What is known about a hop when a step refuses it; filled in as the steps go. */
export interface HopTrail {
  stage: 'issue' | 'redeem';
  actor: string;
  requestId: string;
  approver?: string;
  /** The mandate the refused request was about: the parent when issuing, the sub-grant's when redeeming. */
  mandateId?: string;
  parentMandateId?: string;
  child?: string;
}

/**
 * Runs `work`; a refusal (a 4xx MandateError) is audited as `delegation.rejected` before it is
 * answered. If that commit fails, its error is answered instead: nothing goes unaudited.
 *
 * @example
 * const trail: HopTrail = { stage: 'issue', actor: agent.id, requestId };
 * return auditRefusals(deps, trail, () => issue(input, trail));
 */
export async function auditRefusals<T>(deps: Pick<LoopDeps, 'audit'>, trail: HopTrail, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (!isMandateError(error) || error.status >= 500) throw error;
    await deps.audit.record({
      type: HOP_EVENT.rejected, actor: trail.actor, approver: trail.approver ?? null, mandateId: trail.mandateId ?? null, requestId: trail.requestId,
      data: { stage: trail.stage, code: error.code, reason: error.message, parent_mandate_id: trail.parentMandateId ?? null, child_agent: trail.child ?? null },
    });
    throw error;
  }
}
