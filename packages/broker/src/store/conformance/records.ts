/** Valid domain records for the conformance suites; each call with a new `n` is distinct. */
import type { AdminToken, Agent, Human, KeyRecord } from '../../core/model.ts';

export function aHuman(n: number, overrides: Partial<Human> = {}): Human {
  return {
    id: `usr_${n}`,
    name: `Human ${n}`,
    email: n % 2 === 0 ? null : `human${n}@example.com`,
    status: 'active',
    createdAt: 1_700_000_000_000 + n,
    disabledAt: null,
    ...overrides,
  };
}

export function anAgent(n: number, owners: string[], overrides: Partial<Agent> = {}): Agent {
  return {
    id: `agt_${n}`,
    name: `agent-${n}`,
    kind: 'ai_agent',
    status: 'active',
    owners,
    approvers: owners,
    policy: 'default',
    jwk: { kty: 'OKP', crv: 'Ed25519', x: `x-${n}` },
    jwkThumbprint: `thumb-${n}`,
    reviewDueAt: null,
    createdAt: 1_700_000_100_000 + n,
    lastSeenAt: null,
    ...overrides,
  };
}

export function anAdminToken(n: number, humanId: string, overrides: Partial<AdminToken> = {}): AdminToken {
  return {
    id: `tok_${n}`,
    humanId,
    label: `token ${n}`,
    rights: ['agents:read', 'audit:read'],
    secretHash: `hash-${n}`,
    createdAt: 1_700_000_200_000 + n,
    expiresAt: null,
    revokedAt: null,
    ...overrides,
  };
}

export function aKey(n: number, overrides: Partial<KeyRecord> = {}): KeyRecord {
  const publicJwk = { kty: 'EC', crv: 'P-256', x: `x-${n}`, y: `y-${n}`, kid: `kid-${n}`, alg: 'ES256', use: 'sig' };
  return {
    kid: `kid-${n}`,
    alg: 'ES256',
    publicJwk,
    privateJwk: { ...publicJwk, d: `d-${n}` },
    createdAt: 1_700_000_300_000 + n,
    activatesAt: 1_700_000_300_000 + n,
    retiresAt: null,
    ...overrides,
  };
}
