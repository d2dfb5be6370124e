import { z } from 'zod';
import { defineRoute, respond, type RouteContext } from '../route-spec.ts';
import { actionContext } from './authenticate.ts';
import { agentToWire } from './wire.ts';

/** Agent names are identifiers: safe in URLs, shells and logs. */
const agentName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'must be 1-64 characters: letters, digits, dot, dash, underscore');
const humanIds = z.array(z.string().max(64)).max(20);
const idParams = z.strictObject({ id: z.string() });

const addBody = z.strictObject({
  name: agentName,
  kind: z.enum(['ai_agent', 'workload', 'service']).optional(),
  owners: humanIds,
  approvers: humanIds.optional(),
  policy: z.string().min(1).max(64),
  // The key's rules live in core/agent-key.ts; here it only has to be an object.
  jwk: z.record(z.string(), z.unknown()),
  review_due_at: z.iso.datetime({ offset: true }).optional(),
});
type AddAgent = RouteContext<{ body: typeof addBody }>;
type ById = RouteContext<{ params: typeof idParams }>;

async function registerAgent(ctx: AddAgent): Promise<void> {
  const { name, kind, owners, approvers, policy, jwk, review_due_at } = ctx.body;
  const input = { name, kind, owners, approvers, policy, jwk, reviewDueAt: review_due_at ? Date.parse(review_due_at) : null };
  respond(ctx, 201, agentToWire(await ctx.deps.directory.addAgent(input, actionContext(ctx))));
}

async function listAgents(ctx: RouteContext): Promise<void> {
  respond(ctx, 200, { agents: (await ctx.deps.directory.listAgents()).map(agentToWire) });
}

async function showAgent(ctx: ById): Promise<void> {
  respond(ctx, 200, agentToWire(await ctx.deps.directory.getAgent(ctx.params.id)));
}

async function suspendAgent(ctx: ById): Promise<void> {
  respond(ctx, 200, agentToWire(await ctx.deps.directory.suspendAgent(ctx.params.id, actionContext(ctx))));
}

async function retireAgent(ctx: ById): Promise<void> {
  respond(ctx, 200, agentToWire(await ctx.deps.directory.retireAgent(ctx.params.id, actionContext(ctx))));
}

export const agentRoutes = [
  defineRoute({
    method: 'POST', path: '/admin/v1/agents', family: 'admin', body: 'json', right: 'agents:write',
    summary: 'Register an agent', schema: { body: addBody }, steps: [registerAgent],
  }),
  defineRoute({
    method: 'GET', path: '/admin/v1/agents', family: 'admin', body: 'none', right: 'agents:read',
    summary: 'List agents', schema: {}, steps: [listAgents],
  }),
  defineRoute({
    method: 'GET', path: '/admin/v1/agents/:id', family: 'admin', body: 'none', right: 'agents:read',
    summary: 'Show an agent', schema: { params: idParams }, steps: [showAgent],
  }),
  defineRoute({
    method: 'POST', path: '/admin/v1/agents/:id/suspend', family: 'admin', body: 'none', right: 'agents:write',
    summary: 'Suspend an active agent', schema: { params: idParams }, steps: [suspendAgent],
  }),
  defineRoute({
    method: 'POST', path: '/admin/v1/agents/:id/retire', family: 'admin', body: 'none', right: 'agents:write',
    summary: 'Retire an agent (terminal)', schema: { params: idParams }, steps: [retireAgent],
  }),
];
