/** Valid domain records for the conformance suites; each call with a new `n` is distinct. */
import type { Mandate } from '../../core/mandate.ts';
import type { AdminToken, Agent, Human, KeyRecord } from '../../core/model.ts';
import type { Credential } from '../../ports/mandates.ts';

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

/** A pending CIBA request by `agentId` for `approverId`; hashes and digests are distinct per `n`. */
export function aMandate(n: number, agentId: string, approverId: string, overrides: Partial<Mandate> = {}): Mandate {
  return {
    id: `mdt_${n}`,
    agentId,
    approverId,
    status: 'pending',
    task: {
      type: 'agent-task',
      purpose: `task ${n}`,
      locations: ['https://api.example.com'],
      actions: ['read', 'write'],
      datatypes: ['invoice'],
      constraints: { notAfter: 1_700_086_400 + n, maxUses: 3 },
    },
    bindingMessage: `Approve task ${n}?`,
    taskDocument: `{"agent":"${agentId}","n":${n}}`,
    taskS256: `s256-${n}`,
    attestationId: `att_${n}`,
    attestationDigest: `sha256:digest-${n}`,
    dpopJkt: `jkt-${n}`,
    authReqIdHash: `arh-${n}`,
    requestExpiresAt: 1_700_000_600_000 + n,
    interval: 5,
    lastPolledAt: null,
    approval: null,
    decidedAt: null,
    grantHash: null,
    createdAt: 1_700_000_400_000 + n,
    endedAt: null,
    endReason: null,
    ...overrides,
  };
}

export function aCredential(jti: string, agentId: string, mandateId: string | null, overrides: Partial<Credential> = {}): Credential {
  return {
    jti,
    mandateId,
    agentId,
    subject: mandateId === null ? agentId : 'usr_1',
    audience: 'https://api.example.com',
    jkt: `jkt-${jti}`,
    issuedAt: 1_700_000_500_000,
    expiresAt: 1_700_000_800_000,
    revokedAt: null,
    ...overrides,
  };
}
