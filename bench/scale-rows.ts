/**
 * Row factories for the scale bench: humans and agents derived from their index (so an agent's id,
 * key and registration event can be rebuilt anywhere without keeping a million ids in memory), and
 * fresh random ids in the broker's formats (PROTOCOL §1: prefix + 22 base64url characters).
 */
import { createHash, randomBytes } from 'node:crypto';
import { ID_PREFIX } from '@mandate/sdk/protocol';
import type { AgentHumansTable, AgentsTable, HumansTable } from '../packages/broker/src/store/schema.ts';

export const AGENT_POLICY = 'bench';

let pool = Buffer.alloc(0);
let offset = 0;

/** `bytes` random bytes as base64url, drawn from a pooled buffer (one syscall per 64 KiB). */
export function randomB64url(bytes: number): string {
  if (offset + bytes > pool.length) {
    pool = randomBytes(65_536);
    offset = 0;
  }
  offset += bytes;
  return pool.toString('base64url', offset - bytes, offset);
}

/** A fresh id of `kind` (128 random bits), e.g. `mdt_…`. */
export function randomId(kind: keyof typeof ID_PREFIX): string {
  return ID_PREFIX[kind] + randomB64url(16);
}

const derived = (label: string, bytes = 16) => createHash('sha256').update(label).digest().subarray(0, bytes).toString('base64url');

export const humanId = (index: number): string => ID_PREFIX.human + derived(`scale-human:${index}`);
export const agentId = (index: number): string => ID_PREFIX.agent + derived(`scale-agent:${index}`);

export function humanRow(index: number, createdAt: number): HumansTable {
  return { id: humanId(index), name: `Scale Human ${index}`, email: `human-${index}@example.com`, status: 'active', created_at: createdAt, disabled_at: null };
}

export interface AgentRows {
  agent: AgentsTable;
  links: AgentHumansTable[];
}

/** Agent `index`, owned (and approved for) by one human; its P-256 coordinates are derived bytes, not a curve point. */
export function agentRows(index: number, ownerIndex: number, createdAt: number): AgentRows {
  const jwk = { crv: 'P-256', kty: 'EC', x: derived(`scale-agent-x:${index}`, 32), y: derived(`scale-agent-y:${index}`, 32) };
  // RFC 7638: the thumbprint is SHA-256 over the required members in lexicographic order, as built above.
  const thumbprint = createHash('sha256').update(JSON.stringify(jwk)).digest('base64url');
  const id = agentId(index);
  const owner = humanId(ownerIndex);
  return {
    agent: {
      id, name: `scale-agent-${index}`, kind: 'ai_agent', status: 'active', policy: AGENT_POLICY, jwk: JSON.stringify(jwk),
      jwk_thumbprint: thumbprint, review_due_at: null, created_at: createdAt, last_seen_at: null,
    },
    links: [
      { agent_id: id, human_id: owner, role: 'owner', position: 0 },
      { agent_id: id, human_id: owner, role: 'approver', position: 0 },
    ],
  };
}

/** The `agent.registered` facts the directory service records for this agent. */
export function registrationFacts({ agent, links }: AgentRows): Record<string, unknown> {
  const humans = (role: string) => links.filter((l) => l.role === role).map((l) => l.human_id);
  return {
    agent_id: agent.id, name: agent.name, kind: agent.kind, owners: humans('owner'), approvers: humans('approver'),
    policy: agent.policy, jwk_thumbprint: agent.jwk_thumbprint,
  };
}
