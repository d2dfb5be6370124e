import type { AuditEventInput } from '../core/audit-chain.ts';
import { lifecycleFlags, type FlagFinding, type LifecycleFlagName } from '../core/lifecycle.ts';
import type { Agent } from '../core/model.ts';
import type { AuditLog } from '../ports/audit-log.ts';
import type { Clock } from '../ports/clock.ts';
import type { LifecycleFlag } from '../ports/findings.ts';
import type { Store } from '../ports/store.ts';
import type { ActionContext } from './action-context.ts';
import type { DirectoryService } from './directory.ts';
import type { Notifier } from './notifications.ts';

export type LifecycleAction = 'notify' | 'suspend';

export interface LifecycleSettings {
  /** Not seen for longer than this (ms) → stale. */
  staleAfter: number;
  actions: { orphan: LifecycleAction; stale: LifecycleAction; reviewOverdue: LifecycleAction };
}

export interface LifecycleDeps {
  store: Store;
  audit: AuditLog;
  clock: Clock;
  directory: Pick<DirectoryService, 'suspendAgent'>;
  settings: LifecycleSettings;
  notifier: Pick<Notifier, 'notify'>;
}

export interface FlaggedAgent {
  agent: Agent;
  flags: Array<FlagFinding & { action: LifecycleAction; raisedAt: number | null }>;
}

export interface LifecycleRun {
  checkedAt: number;
  /** Agents with at least one flag now, flags as they stand after the run. */
  flagged: FlaggedAgent[];
  raised: Array<{ agentId: string; flag: LifecycleFlagName; action: LifecycleAction }>;
  cleared: Array<{ agentId: string; flag: LifecycleFlagName }>;
  suspended: string[];
}

/** The system actor of the periodic job (no human acted). */
export const LIFECYCLE_ACTOR = 'system:lifecycle';

const settingKey = { orphan: 'orphan', stale: 'stale', review_overdue: 'reviewOverdue' } as const;

/**
 * `mandate lifecycle` and the periodic job of `serve`. A dry run reports; `apply` raises new flags
 * (audited `lifecycle_flag.raised`, then the configured action), clears flags that no longer hold
 * (`lifecycle_flag.cleared`). A raised flag acts once, not on every run: it stays raised until cleared.
 */
export function createLifecycleService(deps: LifecycleDeps) {
  const { store, clock, settings } = deps;
  const actionFor = (flag: LifecycleFlagName): LifecycleAction => settings.actions[settingKey[flag]];

  async function evaluate(now: number): Promise<Map<string, { agent: Agent; flags: FlagFinding[] }>> {
    const humans = new Map((await store.humans.list()).map((h) => [h.id, h.status]));
    const result = new Map<string, { agent: Agent; flags: FlagFinding[] }>();
    for (const agent of await store.agents.list()) {
      const active = agent.owners.filter((id) => humans.get(id) === 'active');
      result.set(agent.id, { agent, flags: lifecycleFlags(agent, { active }, now, settings.staleAfter) });
    }
    return result;
  }

  async function run(options: { apply: boolean }, ctx: ActionContext): Promise<LifecycleRun> {
    const now = clock.now();
    const current = await evaluate(now);
    const stored = await store.lifecycleFlags.list();
    const outcome: LifecycleRun = { checkedAt: now, flagged: [], raised: [], cleared: [], suspended: [] };
    if (options.apply) {
      await clearGone(current, stored, outcome, ctx);
      await raiseNew(current, now, outcome, ctx);
    }
    const raisedAt = new Map((await store.lifecycleFlags.list()).map((f) => [`${f.agentId} ${f.flag}`, f.raisedAt]));
    for (const { agent, flags } of current.values()) {
      if (flags.length === 0) continue;
      outcome.flagged.push({ agent, flags: flags.map((f) => ({ ...f, action: actionFor(f.flag), raisedAt: raisedAt.get(`${agent.id} ${f.flag}`) ?? null })) });
    }
    return outcome;
  }

  async function clearGone(current: Map<string, { flags: FlagFinding[] }>, stored: LifecycleFlag[], outcome: LifecycleRun, ctx: ActionContext) {
    for (const flag of stored) {
      if (current.get(flag.agentId)?.flags.some((f) => f.flag === flag.flag)) continue;
      if (!(await store.lifecycleFlags.clear(flag.agentId, flag.flag))) continue;
      await deps.audit.record(event('lifecycle_flag.cleared', ctx, { agent_id: flag.agentId, flag: flag.flag }));
      outcome.cleared.push({ agentId: flag.agentId, flag: flag.flag });
    }
  }

  async function raiseNew(current: Map<string, { agent: Agent; flags: FlagFinding[] }>, now: number, outcome: LifecycleRun, ctx: ActionContext) {
    for (const { agent, flags } of current.values()) {
      for (const found of flags) {
        const action = actionFor(found.flag);
        // Conditional insert: of two replicas running the job, one raises and acts.
        if (!(await store.lifecycleFlags.raise({ agentId: agent.id, flag: found.flag, raisedAt: now, action }))) continue;
        await deps.audit.record(event('lifecycle_flag.raised', ctx, { agent_id: agent.id, flag: found.flag, detail: found.detail, action, owners: agent.owners }));
        outcome.raised.push({ agentId: agent.id, flag: found.flag, action });
        await act(agent, found, action, now, outcome, ctx);
      }
    }
  }

  async function act(agent: Agent, found: FlagFinding, action: LifecycleAction, now: number, outcome: LifecycleRun, ctx: ActionContext) {
    if (action === 'suspend' && agent.status === 'active' && !outcome.suspended.includes(agent.id)) {
      await deps.directory.suspendAgent(agent.id, ctx);
      outcome.suspended.push(agent.id);
    }
    // Suspension never happens silently: the owners (or, for an orphan, the admins) are told either way.
    for (const recipient of await recipients(store, agent, now))
      await deps.notifier.notify(recipient, 'lifecycle.flagged', { agent_id: agent.id, agent_name: agent.name, flag: found.flag, detail: found.detail, action });
  }

  return { run, evaluate };
}

export type LifecycleService = ReturnType<typeof createLifecycleService>;

/** Active owners; when there are none, the active humans holding a live `admin` token. */
async function recipients(store: Store, agent: Agent, now: number): Promise<string[]> {
  const owners: string[] = [];
  const active = async (id: string) => (await store.humans.get(id))?.status === 'active';
  for (const id of agent.owners) if (await active(id)) owners.push(id);
  if (owners.length > 0) return owners;
  const live = (await store.adminTokens.list()).filter((t) => t.revokedAt === null && (t.expiresAt === null || t.expiresAt > now) && t.rights.includes('admin'));
  const admins: string[] = [];
  for (const id of new Set(live.map((t) => t.humanId))) if (await active(id)) admins.push(id);
  return admins;
}

function event(type: AuditEventInput['type'], ctx: ActionContext, data: Record<string, unknown>): AuditEventInput {
  return { type, actor: ctx.actor, requestId: ctx.requestId, data };
}
