/**
 * The operator's side: registering an agent — here the sub-agent — through the broker's admin API
 * with an admin token holding `agents:write` (`mandate agent add` does the same). The agent proves
 * itself with its own key (RFC 7523 client authentication) and, at every token, its own evidence.
 */
import { adminCall } from './admin-api.ts';

/** Who the new agent is and which rules bind it. */
export interface AgentRegistration {
  /** A unique name (letters, digits, `.`, `-`, `_`). */
  name: string;
  /** The humans (`usr_…`) who own it. */
  owners: string[];
  /** The attestation policy its evidence must satisfy, from the broker's config. */
  policy: string;
  /** The public half of its client key; the private half never leaves the agent. */
  publicJwk: JsonWebKey;
}

/**
 * A fresh ES256 client key for an agent: the private key is non-extractable (it can sign, never be
 * exported), the public JWK is what the operator registers.
 *
 * @example
 * ```ts
 * const { privateKey, publicJwk } = await createAgentKey();
 * ```
 */
export async function createAgentKey(): Promise<{ privateKey: CryptoKey; publicJwk: JsonWebKey }> {
  const pair = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign', 'verify']);
  const { kty, crv, x, y } = await crypto.subtle.exportKey('jwk', pair.publicKey);
  return { privateKey: pair.privateKey, publicJwk: { kty, crv, x, y } };
}

/**
 * Registers an agent and returns its id (`agt_…`).
 *
 * @example
 * ```ts
 * const childId = await registerAgent(issuer, adminToken, { name: 'items-reader', owners: ['usr_…'], policy: 'default', publicJwk });
 * ```
 */
export async function registerAgent(issuer: string, adminToken: string, agent: AgentRegistration): Promise<string> {
  const created = await adminCall(issuer, adminToken, 'POST', '/admin/v1/agents', { name: agent.name, owners: agent.owners, policy: agent.policy, jwk: agent.publicJwk });
  return created.id as string;
}
