import type { Store } from '../ports/store.ts';

/** One row per agent: the inventory of non-human identities with owners, lifecycle dates and flags. */
export interface InventoryRow {
  id: string;
  name: string;
  kind: string;
  status: string;
  policy: string;
  owners: string[];
  owner_names: string[];
  owner_emails: string[];
  /** Owners that are active humans; none → the agent is an orphan. */
  active_owners: number;
  approvers: string[];
  created_at: string;
  last_seen_at: string | null;
  review_due_at: string | null;
  /** Lifecycle flags raised now (orphan, stale, review_overdue). */
  flags: string[];
}

export const INVENTORY_COLUMNS = [
  'id', 'name', 'kind', 'status', 'policy', 'owners', 'owner_names', 'owner_emails', 'active_owners', 'approvers',
  'created_at', 'last_seen_at', 'review_due_at', 'flags',
] as const satisfies ReadonlyArray<keyof InventoryRow>;

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export async function buildInventory(store: Pick<Store, 'agents' | 'humans' | 'lifecycleFlags'>): Promise<InventoryRow[]> {
  const humans = new Map((await store.humans.list()).map((h) => [h.id, h]));
  const flags = await store.lifecycleFlags.list();
  return (await store.agents.list()).map((agent) => {
    const owners = agent.owners.map((id) => humans.get(id));
    return {
      id: agent.id, name: agent.name, kind: agent.kind, status: agent.status, policy: agent.policy,
      owners: agent.owners,
      owner_names: owners.map((h) => h?.name ?? '?'),
      owner_emails: owners.map((h) => h?.email ?? ''),
      active_owners: owners.filter((h) => h?.status === 'active').length,
      approvers: agent.approvers,
      created_at: iso(agent.createdAt)!, last_seen_at: iso(agent.lastSeenAt), review_due_at: iso(agent.reviewDueAt),
      flags: flags.filter((f) => f.agentId === agent.id).map((f) => f.flag),
    };
  });
}
