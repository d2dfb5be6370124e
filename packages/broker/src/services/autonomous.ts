import { MandateError } from '../core/errors.ts';
import type { Agent, PublicJwk } from '../core/model.ts';
import { verifyClientAttestation, type ClientAttestationHeaders } from './actor-attestation.ts';
import { createTokenIssuer, type IssuedToken } from './issue-token.ts';
import type { LoopDeps } from './loop-deps.ts';
import type { HeldIds } from '../proof/single-use.ts';

export interface AutonomousInput {
  agent: Agent;
  resources: string[];
  /** The `OAuth-Client-Attestation` headers: an attestation result and its PoP. */
  clientAttestation: ClientAttestationHeaders;
  /** Thumbprint and key of the verified DPoP proof. */
  jkt: string;
  jwk: PublicJwk;
  requestId: string;
  /** The request's single-use ids, recorded by the token's commit (proof/single-use.ts). */
  held?: HeldIds;
}

/**
 * PROTOCOL §5: `client_credentials` for autonomous agents. No human approves, so the audience must
 * opt in for this agent in config (`audiences.<uri>.autonomous`), and the token has `sub` = agent.
 */
export function createAutonomousService(deps: LoopDeps) {
  const issue = createTokenIssuer(deps);

  const allowedActions = (input: AutonomousInput) => {
    if (input.resources.length !== 1) throw new MandateError('ERR_MINT_TARGET', 'exactly one resource is required');
    const audience = Object.hasOwn(deps.config.audiences, input.resources[0]!) ? deps.config.audiences[input.resources[0]!] : undefined;
    if (!audience) throw new MandateError('ERR_MINT_TARGET', 'resource is not a registered audience');
    if (!audience.autonomous?.agents.includes(input.agent.id))
      throw new MandateError('ERR_MINT_UNAUTHORIZED_CLIENT', 'this audience does not accept autonomous tokens from this agent');
    return audience.autonomous.actions;
  };

  return async function mintAutonomous(input: AutonomousInput): Promise<IssuedToken> {
    const actions = allowedActions(input);
    const attestation = await verifyClientAttestation(deps, input.clientAttestation, { agentId: input.agent.id, jkt: input.jkt, jwk: input.jwk });
    return issue({ mandate: null, agentId: input.agent.id, subject: input.agent.id, audience: input.resources[0]!, jkt: input.jkt, attestation, autonomousActions: actions, requestId: input.requestId, ...(input.held ? { held: input.held } : {}) });
  };
}
