import { hashedContent, type AuditRecord } from '../../core/audit-chain.ts';
import type { Agent, Human, KeyRecord } from '../../core/model.ts';
import type { PublicAdminToken } from '../../services/admin-tokens.ts';

/** Admin API resources on the wire: snake_case members, times as RFC 3339 UTC strings. */
export const isoTime = (ms: number): string => new Date(ms).toISOString();
const isoOrNull = (ms: number | null): string | null => (ms === null ? null : isoTime(ms));

export function humanToWire(human: Human) {
  return {
    id: human.id,
    name: human.name,
    email: human.email,
    status: human.status,
    created_at: isoTime(human.createdAt),
    disabled_at: isoOrNull(human.disabledAt),
  };
}

export function agentToWire(agent: Agent) {
  return {
    id: agent.id,
    name: agent.name,
    kind: agent.kind,
    status: agent.status,
    owners: agent.owners,
    approvers: agent.approvers,
    policy: agent.policy,
    jwk: agent.jwk,
    jwk_thumbprint: agent.jwkThumbprint,
    review_due_at: isoOrNull(agent.reviewDueAt),
    created_at: isoTime(agent.createdAt),
    last_seen_at: isoOrNull(agent.lastSeenAt),
  };
}

export function tokenToWire(token: PublicAdminToken) {
  return {
    id: token.id,
    human_id: token.humanId,
    label: token.label,
    rights: token.rights,
    created_at: isoTime(token.createdAt),
    expires_at: isoOrNull(token.expiresAt),
    revoked_at: isoOrNull(token.revokedAt),
  };
}

export type KeyState = 'pending' | 'active' | 'retiring' | 'retired';

/** Metadata only: a key record's private half never reaches this function's output. */
export function keyToWire(key: KeyRecord, now: number) {
  return {
    kid: key.kid,
    alg: key.alg,
    state: keyState(key, now),
    created_at: isoTime(key.createdAt),
    activates_at: isoTime(key.activatesAt),
    retires_at: isoOrNull(key.retiresAt),
  };
}

function keyState(key: KeyRecord, now: number): KeyState {
  if (key.retiresAt !== null && key.retiresAt <= now) return 'retired';
  if (key.activatesAt > now) return 'pending';
  return key.retiresAt === null ? 'active' : 'retiring';
}

/** Exactly the members the chain hash covers (so a client can re-check it), plus the hash. */
export function auditEventToWire(record: AuditRecord) {
  return { ...hashedContent(record), hash: record.hash };
}
