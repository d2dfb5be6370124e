import { z } from 'zod';
import { CONSOLE_ROLES } from '../../core/roles.ts';
import { defineRoute, respond, type RouteContext } from '../route-spec.ts';
import { actionContext } from './authenticate.ts';
import { isoTime } from './wire.ts';

const idParams = z.strictObject({ id: z.string() });
const rolesBody = z.strictObject({ roles: z.array(z.enum(CONSOLE_ROLES)).max(CONSOLE_ROLES.length) });
type ById = RouteContext<{ params: typeof idParams }>;
type SetRoles = RouteContext<{ params: typeof idParams; body: typeof rolesBody }>;

/**
 * The one-time enrolment link is in this answer only: the broker keeps its hash. The service refuses a
 * non-admin caller an invite for an admin or an already enrolled human (a takeover by enrolment).
 */
async function createInvite(ctx: ById): Promise<void> {
  const invite = await ctx.deps.console.auth.createInvite(ctx.params.id, actionContext(ctx));
  respond(ctx, 201, { human_id: invite.humanId, url: invite.url, expires_at: isoTime(invite.expiresAt) });
}

async function showRoles(ctx: ById): Promise<void> {
  await ctx.deps.directory.getHuman(ctx.params.id);
  respond(ctx, 200, { human_id: ctx.params.id, roles: await ctx.deps.console.auth.rolesOf(ctx.params.id) });
}

async function setRoles(ctx: SetRoles): Promise<void> {
  const roles = await ctx.deps.console.auth.setRoles(ctx.params.id, ctx.body.roles, actionContext(ctx));
  respond(ctx, 200, { human_id: ctx.params.id, roles });
}

/** Console access of a human: enrolment invites and roles (docs/console.md). */
export const humanAccessRoutes = [
  defineRoute({
    method: 'POST', path: '/admin/v1/humans/:id/invites', family: 'admin', body: 'none', right: 'humans:write',
    summary: 'Create a one-time passkey enrolment link for a human (returned once; for an admin or a human with a passkey, needs admin)', schema: { params: idParams }, steps: [createInvite],
  }),
  defineRoute({
    method: 'GET', path: '/admin/v1/humans/:id/roles', family: 'admin', body: 'none', right: 'humans:read',
    summary: 'Show a human\'s console roles', schema: { params: idParams }, steps: [showRoles],
  }),
  defineRoute({
    method: 'POST', path: '/admin/v1/humans/:id/roles', family: 'admin', body: 'json', right: 'humans:write',
    summary: 'Replace a human\'s console roles (only rights the caller holds; granting admin or changing an admin\'s roles needs admin)', schema: { params: idParams, body: rolesBody }, steps: [setRoles],
  }),
];
