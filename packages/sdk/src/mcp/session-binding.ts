import type { VerifiedRequest } from '../resource/verifier.ts';

/**
 * MCP sessions bound to the caller that first used them (MCP security best practices, "Session
 * Hijacking": bind session ids to user-specific information). The caller is the agent, the human
 * it acts for and its DPoP key, so a session id alone never lets another caller in. Bounded: the
 * oldest binding is forgotten first.
 */
export interface SessionBinding {
  /** True when the session is unknown (it is bound now) or bound to this caller. */
  admits(sessionId: string, mandate: VerifiedRequest): boolean;
}

export function createSessionBinding(maxSessions: number): SessionBinding {
  const owners = new Map<string, string>();
  return {
    admits(sessionId, mandate) {
      const caller = JSON.stringify([mandate.agentId, mandate.subject, mandate.jkt]);
      const owner = owners.get(sessionId);
      if (owner !== undefined) return owner === caller;
      if (owners.size >= maxSessions) owners.delete(owners.keys().next().value!);
      owners.set(sessionId, caller);
      return true;
    },
  };
}
