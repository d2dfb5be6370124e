import type { VerifiedRequest } from '../resource/verifier.ts';

/**
 * MCP sessions bound to the caller whose request opened them (MCP security best practices,
 * "Session Hijacking": bind session ids to user-specific information). The caller is the agent,
 * the human it acts for and its DPoP key, so a session id alone never lets another caller in. A
 * session the guard did not see opened is unknown to it, whoever presents it. Bounded: the oldest
 * binding is forgotten first, and its session is then unknown too.
 */
export interface SessionBinding {
  /** Binds a session the caller's request just opened. */
  bind(sessionId: string, mandate: VerifiedRequest): void;
  /** True only when the session is bound to this caller. */
  admits(sessionId: string, mandate: VerifiedRequest): boolean;
}

const callerOf = (mandate: VerifiedRequest) => JSON.stringify([mandate.agentId, mandate.subject, mandate.jkt]);

export function createSessionBinding(maxSessions: number): SessionBinding {
  const owners = new Map<string, string>();
  return {
    bind(sessionId, mandate) {
      if (owners.has(sessionId)) return;
      if (owners.size >= maxSessions) owners.delete(owners.keys().next().value!);
      owners.set(sessionId, callerOf(mandate));
    },
    admits: (sessionId, mandate) => owners.get(sessionId) === callerOf(mandate),
  };
}
