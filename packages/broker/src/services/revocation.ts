import { GRANT_PREFIX } from '@mandate/sdk/protocol';
import type { Mandate } from '../core/mandate.ts';
import type { Agent } from '../core/model.ts';
import { parseJws } from '../proof/jws.ts';
import type { ActionContext } from './action-context.ts';
import type { DecisionService } from './decide.ts';
import { descendantsOf, PARENT_REVOKED } from './delegation-tree.ts';
import { sha256b64url, type LoopDeps } from './loop-deps.ts';
import { commitRevocation } from './revocation-commit.ts';

/**
 * RFC 7009 for agents (their own access tokens, mandate grants and sub-grants), and the cascades
 * of PROTOCOL §8 and §10: a suspended agent's mandates are suspended, a disabled human's are
 * revoked, and a revoked mandate takes every mandate delegated below it along.
 */
/** How many exhausted mandates of one agent or approver a cascade walks (their tokens are still out, their trees may still mint). */
const EXHAUSTED_LIMIT = 10_000;

export function createRevocationService(deps: LoopDeps, decisions: DecisionService) {
  const { store, clock } = deps;

  /** Revokes every live mandate below each of `mandates`, with their tokens; returns how many. */
  const revokeDescendants = async (mandates: readonly Mandate[], ctx: ActionContext): Promise<number> => {
    let count = 0;
    for (const mandate of mandates) count += await decisions.revokeAll(await descendantsOf(store, mandate.id), PARENT_REVOKED, ctx);
    return count;
  };

  /** The mandates a retirement or a disabling ends: the live ones and the exhausted ones (their tokens are still out). */
  const revocable = async (filter: { agentId: string } | { approverId: string }): Promise<Mandate[]> =>
    [...(await store.mandates.listLive(filter)), ...(await store.mandates.list({ ...filter, status: 'exhausted' }, EXHAUSTED_LIMIT))];

  /** Revokes `mandates` and everything delegated below them; a cascade never stops halfway. */
  const revokeTrees = async (mandates: readonly Mandate[], reason: string, ctx: ActionContext): Promise<number> =>
    (await decisions.revokeAll(mandates, reason, ctx)) + (await revokeDescendants(mandates, ctx));

  /** A sub-grant may be withdrawn by the agent that asked for it or the child it names. */
  const revokeSubGrant = async (agent: Agent, token: string, requestId: string) => {
    const mandate = await store.mandates.getBySubGrantHash(sha256b64url(token));
    const parent = mandate?.hop ? await store.mandates.get(mandate.hop.parentId) : null;
    if (!mandate || (mandate.agentId !== agent.id && parent?.agentId !== agent.id)) return;
    await revokeTrees([mandate], 'revoked_by_agent', { actor: agent.id, requestId });
  };

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
    if (!credential || credential.agentId !== agent.id) return;
    // Conditional: of two concurrent revocations one applies, publishes and audits (docs/revocation.md).
    await commitRevocation(deps, { credentials: { jti }, change: { topic: 'token.revoked', key: jti, at: clock.now() } },
      () => [{ type: 'token.revoked', actor: agent.id, mandateId: credential.mandateId, jti, requestId, data: { by: 'agent' } }]);
  };

  /** An agent's tokens (and their status-list bits) with the change resource servers hear of, in one commit. */
  const revokeAgentCredentials = (agentId: string, topic: 'agent.suspended' | 'agent.retired') =>
    commitRevocation(deps, { credentials: { agentId }, change: { topic, key: agentId, at: clock.now() } });

  return {
    /** RFC 7009 §2.1: a grant revokes its mandate; an access token only itself. Unknown → no-op. */
    async revokeByAgent(agent: Agent, token: string, requestId: string): Promise<void> {
      if (token.startsWith(GRANT_PREFIX.mandateGrant)) {
        const mandate = await store.mandates.getByGrantHash(sha256b64url(token));
        // RFC 7009 §2.2: 200 whatever the state; a mandate that ended meanwhile is simply skipped.
        if (mandate && mandate.agentId === agent.id) await revokeTrees([mandate], 'revoked_by_agent', { actor: agent.id, requestId });
        return;
      }
      if (token.startsWith(GRANT_PREFIX.subGrant)) return revokeSubGrant(agent, token, requestId);
      await revokeCredential(agent, token, requestId);
    },

    /**
     * The admin API's revocation (PROTOCOL §8, §10): the mandate, then every mandate below it and
     * every token minted under any of them. Refused like `decisions.revoke` when the mandate is not live.
     */
    async revokeTree(id: string, reason: string, ctx: ActionContext): Promise<Mandate> {
      const current = await decisions.get(id);
      // Asking again finishes a cascade a failure interrupted, then answers as before (not live).
      if (current.status === 'revoked') await revokeDescendants([current], ctx);
      const revoked = await decisions.revoke(current, reason, ctx);
      await revokeDescendants([revoked], ctx);
      return revoked;
    },

    /** PROTOCOL §8: suspending an agent suspends its live mandates and revokes its tokens; returns how many of both. */
    async suspendAgentMandates(agentId: string, ctx: ActionContext): Promise<number> {
      let count = 0;
      let failure: { error: unknown } | null = null;
      for (const mandate of await store.mandates.listLive({ agentId })) {
        // Each suspension with its audit event, one commit; no change of its own: the agent's
        // change (agent.suspended) is what ends the tokens, below (docs/revocation.md). One that
        // fails does not keep the others, nor the tokens' revocation, from going ahead.
        try {
          const { applied } = await commitRevocation(deps, {
            mandate: { id: mandate.id, from: ['pending', 'approved', 'active'], patch: { status: 'suspended', endReason: 'agent_suspended' } },
            change: { topic: 'mandate.suspended', key: mandate.id, at: clock.now(), publish: false },
          }, () => [{ type: 'mandate.suspended', actor: ctx.actor, approver: mandate.approverId, mandateId: mandate.id, requestId: ctx.requestId, data: { reason: 'agent_suspended' } }]);
          if (applied) count += 1;
        } catch (error) {
          failure ??= { error };
        }
      }
      count += (await revokeAgentCredentials(agentId, 'agent.suspended')).credentialsRevoked;
      if (failure) throw failure.error;
      return count;
    },

    /** Retiring an agent ends every mandate it holds and revokes its tokens; returns how many of both (0: nothing left to do). */
    async revokeAgentMandates(agentId: string, ctx: ActionContext): Promise<number> {
      // A retirement a failure interrupted may have revoked a mandate but not those below it: asked again, walk them too.
      const interrupted = (await store.mandates.list({ agentId, status: 'revoked' }, EXHAUSTED_LIMIT)).filter((m) => m.endReason === 'agent_retired');
      const count = (await revokeTrees(await revocable({ agentId }), 'agent_retired', ctx)) + (await revokeDescendants(interrupted, ctx));
      // Autonomous tokens belong to no mandate: the feed tells resource servers (SSF push) about them too.
      return count + (await revokeAgentCredentials(agentId, 'agent.retired')).credentialsRevoked;
    },

    /** PROTOCOL §8: disabling a human revokes every mandate they approved (they are its `sub`), exhausted ones too. */
    async revokeHumanMandates(humanId: string, ctx: ActionContext): Promise<number> {
      // A sub-grant's mandate has the same approver, so the list holds the whole trees already.
      return decisions.revokeAll(await revocable({ approverId: humanId }), 'human_disabled', ctx);
    },
  };
}

export type RevocationService = ReturnType<typeof createRevocationService>;
