/**
 * Lifecycle rules for non-human identities (DESIGN "Review"): an agent is an orphan when no
 * owner is an active human, stale when it has not authenticated for longer than the configured
 * period, and review-overdue past its review date. Pure: time and owner states are passed in.
 */
import type { Agent } from './model.ts';

export type LifecycleFlagName = 'orphan' | 'stale' | 'review_overdue';

export interface FlagFinding {
  flag: LifecycleFlagName;
  /** One sentence for humans (notification, CLI). */
  detail: string;
}

export interface OwnerStates {
  /** Owners that are known, active humans. */
  active: readonly string[];
}

const DAY_MS = 86_400_000;
const days = (ms: number) => `${Math.floor(ms / DAY_MS)} day(s)`;

/** The flags that hold for `agent` at `now`; retired agents carry none. */
export function lifecycleFlags(agent: Agent, owners: OwnerStates, now: number, staleAfterMs: number): FlagFinding[] {
  if (agent.status === 'retired') return [];
  const flags: FlagFinding[] = [];
  if (owners.active.length === 0)
    flags.push({ flag: 'orphan', detail: agent.owners.length === 0 ? 'the agent has no owner' : `no owner is an active human (owners: ${agent.owners.join(', ')})` });
  // An agent that never authenticated is measured from its registration.
  const seen = agent.lastSeenAt ?? agent.createdAt;
  if (now - seen > staleAfterMs)
    flags.push({ flag: 'stale', detail: `${agent.lastSeenAt === null ? 'never seen since registration' : 'not seen'} for ${days(now - seen)}` });
  if (agent.reviewDueAt !== null && agent.reviewDueAt <= now)
    flags.push({ flag: 'review_overdue', detail: `review was due ${new Date(agent.reviewDueAt).toISOString()}` });
  return flags;
}
