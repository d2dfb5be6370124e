import type { AgentTask, Approval } from './mandate.ts';

/** The private claim carrying the attestation summary (a URI, RFC 7519 §4.2). */
export const ATTESTATION_CLAIM = 'urn:mandate:attestation';

export interface AccessTokenInput {
  issuer: string;
  jti: string;
  /** The human for delegated tokens, the agent for autonomous ones. */
  subject: string;
  agentId: string;
  audience: string;
  jkt: string;
  /** Epoch seconds. */
  iat: number;
  exp: number;
  delegation: { mandateId: string; task: AgentTask; approval: Approval; taskS256: string } | null;
  /** For autonomous tokens: the actions the audience allows the agent. */
  autonomousActions?: string[];
  attestation: { id: string; verdict: string; iat: number; evidenceDigest: string; attestors: Record<string, { status: string }> };
}

/** PROTOCOL §5 / RFC 9068 §2.2: the claims of an access token. Pure. */
export function accessTokenClaims(input: AccessTokenInput): Record<string, unknown> {
  const common = {
    iss: input.issuer,
    sub: input.subject,
    aud: input.audience,
    client_id: input.agentId,
    iat: input.iat,
    nbf: input.iat,
    exp: input.exp,
    jti: input.jti,
    cnf: { jkt: input.jkt },
    [ATTESTATION_CLAIM]: {
      status: input.attestation.verdict,
      iat: input.attestation.iat,
      attestors: input.attestation.attestors,
      ref: input.attestation.id,
      evidence_digest: input.attestation.evidenceDigest,
    },
  };
  if (!input.delegation) {
    const details = [{ type: 'agent-task', locations: [input.audience], actions: input.autonomousActions ?? [] }];
    return { ...common, sub_profile: 'ai_agent', authorization_details: details };
  }
  const { mandateId, task, approval, taskS256 } = input.delegation;
  return {
    ...common,
    act: actClaim([input.agentId, ...(approval.delegatedBy ?? [])]),
    authorization_details: [
      {
        ...task,
        delegation: { id: mandateId, approved_by: approval.approvedBy, approved_at: Math.floor(approval.approvedAt / 1000), method: approval.method, task_s256: taskS256 },
      },
    ],
  };
}

/**
 * RFC 8693 §4.1: the current actor outermost, each prior actor nested inside it (PROTOCOL §10),
 * so a sub-agent's token reads `act: {sub: child, act: {sub: parent}}`.
 *
 * @example
 * actClaim(['agt_child', 'agt_parent']);
 * // { sub: 'agt_child', sub_profile: 'ai_agent', act: { sub: 'agt_parent', sub_profile: 'ai_agent' } }
 */
export function actClaim(actors: readonly string[]): Record<string, unknown> {
  const [current, ...prior] = actors;
  return { sub: current, sub_profile: 'ai_agent', ...(prior.length > 0 ? { act: actClaim(prior) } : {}) };
}
