import type { LifecycleRun } from '../../services/lifecycle.ts';
import { defineRoute, respond, type RouteContext } from '../route-spec.ts';
import { actionContext } from './authenticate.ts';
import { isoTime } from './wire.ts';

export function lifecycleRunToWire(run: LifecycleRun) {
  return {
    checked_at: isoTime(run.checkedAt),
    flagged: run.flagged.map(({ agent, flags }) => ({
      agent_id: agent.id, name: agent.name, status: agent.status, owners: agent.owners,
      flags: flags.map((f) => ({ flag: f.flag, detail: f.detail, action: f.action, raised_at: f.raisedAt === null ? null : isoTime(f.raisedAt) })),
    })),
    raised: run.raised.map((r) => ({ agent_id: r.agentId, flag: r.flag, action: r.action })),
    cleared: run.cleared.map((c) => ({ agent_id: c.agentId, flag: c.flag })),
    suspended: run.suspended,
  };
}

/** A dry run: what the lifecycle check finds now; nothing is raised, cleared or suspended. */
async function reportLifecycle(ctx: RouteContext): Promise<void> {
  respond(ctx, 200, lifecycleRunToWire(await ctx.deps.lifecycle.run({ apply: false }, actionContext(ctx))));
}

/** Runs the check as the periodic job does, with the caller as actor. */
async function applyLifecycle(ctx: RouteContext): Promise<void> {
  respond(ctx, 200, lifecycleRunToWire(await ctx.deps.lifecycle.run({ apply: true }, actionContext(ctx))));
}

export const lifecycleRoutes = [
  defineRoute({
    method: 'GET', path: '/admin/v1/lifecycle', family: 'admin', body: 'none', right: 'agents:read',
    summary: 'Lifecycle report: orphans, stale agents, agents past review (dry run)', schema: {}, steps: [reportLifecycle],
  }),
  defineRoute({
    method: 'POST', path: '/admin/v1/lifecycle/run', family: 'admin', body: 'none', right: 'agents:write',
    summary: 'Run the lifecycle check: raise and clear flags, apply the configured actions', schema: {}, steps: [applyLifecycle],
  }),
];
