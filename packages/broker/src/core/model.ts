/** The domain records of the foundation. Pure data: times are epoch milliseconds. */

export type HumanStatus = 'active' | 'disabled';

export interface Human {
  id: string;
  name: string;
  email: string | null;
  status: HumanStatus;
  createdAt: number;
  disabledAt: number | null;
}

export type AgentStatus = 'active' | 'suspended' | 'retired';
export type AgentKind = 'ai_agent' | 'workload' | 'service';

export interface Agent {
  id: string;
  name: string;
  kind: AgentKind;
  status: AgentStatus;
  /** Humans accountable for the agent; at least one. */
  owners: string[];
  /** Humans who may approve its mandates (PROTOCOL §4); defaults to the owners. */
  approvers: string[];
  /** Name of an attestation policy in the config. */
  policy: string;
  /** Public JWK the agent authenticates with (`private_key_jwt`). */
  jwk: PublicJwk;
  /** RFC 7638 thumbprint of `jwk`. */
  jwkThumbprint: string;
  reviewDueAt: number | null;
  createdAt: number;
  lastSeenAt: number | null;
}

export interface PublicJwk {
  kty: string;
  crv?: string;
  x?: string;
  y?: string;
  kid?: string;
  alg?: string;
  use?: string;
}

/** Rights an admin token may carry. `admin` implies every other right. */
export const ADMIN_RIGHTS = [
  'admin',
  'humans:read',
  'humans:write',
  'agents:read',
  'agents:write',
  'tokens:manage',
  'keys:read',
  'keys:rotate',
  'audit:read',
  'mandates:read',
  'mandates:decide',
  'mandates:revoke',
  /** Access reviews: keep or revoke the mandates of agents the caller owns. */
  'mandates:review',
  'findings:read',
  'findings:write',
] as const;
export type AdminRight = (typeof ADMIN_RIGHTS)[number];

export interface AdminToken {
  id: string;
  humanId: string;
  label: string;
  rights: AdminRight[];
  /** SHA-256 of the secret part, base64url; the secret itself is never stored. */
  secretHash: string;
  createdAt: number;
  expiresAt: number | null;
  revokedAt: number | null;
}

export function hasRight(granted: readonly AdminRight[], needed: AdminRight): boolean {
  return granted.includes('admin') || granted.includes(needed);
}

/** A broker signing key. `activatesAt` ≤ now: may sign; published until `retiresAt`. */
export interface KeyRecord {
  kid: string;
  alg: 'ES256';
  publicJwk: PublicJwk;
  privateJwk: PublicJwk & { d: string };
  createdAt: number;
  activatesAt: number;
  retiresAt: number | null;
}
