import type { Agent } from '../core/model.ts';
import { parseJws } from '../proof/jws.ts';
import type { ActionContext } from './action-context.ts';
import type { DecisionService } from './decide.ts';
import { sha256b64url, type LoopDeps } from './loop-deps.ts';

/**
 * RFC 7009 for agents (their own access tokens and mandate grants), and the cascades of
 * PROTOCOL §8: a suspended agent's mandates are suspended, a disabled human's are revoked.
 */
export function createRevocationService(deps: LoopDeps, decisions: DecisionService) {
  const { store, clock } = deps;

  const revokeCredential = async (agent: Agent, token: string, requestId: string) => {
    let jti: unknown;
    let clientId: unknown;
    try {
      ({ jti, client_id: clientId } = parseJws(token).payload);
    } catch {
      return; // RFC 7009 §2.2: an invalid token is not an error.
    }
    if (typeof jti !== 'string' || clientId !== agent.id) return;
    const credential = await store.credentials.get(jti);
    if (!credential || credential.agentId !== agent.id || !(await store.credentials.revoke(jti, clock.now()))) return;
    await store.changes.publish('token.revoked', jti, clock.now());
    await deps.audit.record({ type: 'token.revoked', actor: agent.id, mandateId: credential.mandateId, jti, requestId, data: { by: 'agent' } });
  };

  return {
    /** RFC 7009 §2.1: a grant revokes its mandate; an access token only itself. Unknown → no-op. */
    async revokeByAgent(agent: Agent, token: string, requestId: string): Promise<void> {
      if (token.startsWith('mgr_')) {
        const mandate = await store.mandates.getByGrantHash(sha256b64url(token));
        // RFC 7009 §2.2: 200 whatever the state; a mandate that ended meanwhile is simply skipped.
        if (mandate && mandate.agentId === agent.id) await decisions.revokeAll([mandate], 'revoked_by_agent', { actor: agent.id, requestId });
        return;
      }
      await revokeCredential(agent, token, requestId);
    },

    /** PROTOCOL §8: suspending an agent suspends its live mandates and revokes its tokens. */
    async suspendAgentMandates(agentId: string, ctx: ActionContext): Promise<number> {
      let count = 0;
      for (const mandate of await store.mandates.listLive({ agentId })) {
        if (await store.mandates.transition(mandate.id, ['pending', 'approved', 'active'], { status: 'suspended', endReason: 'agent_suspended' })) {
          count += 1;
          await deps.audit.record({ type: 'mandate.suspended', actor: ctx.actor, approver: mandate.approverId, mandateId: mandate.id, requestId: ctx.requestId, data: { reason: 'agent_suspended' } });
        }
      }
      const revoked = await store.credentials.revokeByAgent(agentId, clock.now());
      if (revoked > 0) await store.changes.publish('agent.suspended', agentId, clock.now());
      return count;
    },

    /** Retiring an agent ends every mandate it holds and revokes its tokens. */
    async revokeAgentMandates(agentId: string, ctx: ActionContext): Promise<number> {
      const count = await decisions.revokeAll(await store.mandates.listLive({ agentId }), 'agent_retired', ctx);
      await store.credentials.revokeByAgent(agentId, clock.now());
      return count;
    },

    /** PROTOCOL §8: disabling a human revokes every mandate they approved (they are its `sub`). */
    async revokeHumanMandates(humanId: string, ctx: ActionContext): Promise<number> {
      return decisions.revokeAll(await store.mandates.listLive({ approverId: humanId }), 'human_disabled', ctx);
    },
  };
}

export type RevocationService = ReturnType<typeof createRevocationService>;
