import { z } from 'zod';
import { defineRoute, respond, type RouteContext } from '../route-spec.ts';
import { actionContext } from './authenticate.ts';
import { humanToWire } from './wire.ts';
import { humanAccessRoutes } from './human-access.ts';

/** Display names: 1–200 characters, no control characters (they are shown in consoles and logs). */
export const displayName = z.string().min(1).max(200).regex(/^[^\p{Cc}]+$/u, 'must not contain control characters');
const idParams = z.strictObject({ id: z.string() });

const addBody = z.strictObject({ name: displayName, email: z.email().max(320).optional() });
type AddHuman = RouteContext<{ body: typeof addBody }>;
type ById = RouteContext<{ params: typeof idParams }>;

async function addHuman(ctx: AddHuman): Promise<void> {
  const human = await ctx.deps.directory.addHuman({ name: ctx.body.name, email: ctx.body.email ?? null }, actionContext(ctx));
  respond(ctx, 201, humanToWire(human));
}

async function listHumans(ctx: RouteContext): Promise<void> {
  respond(ctx, 200, { humans: (await ctx.deps.directory.listHumans()).map(humanToWire) });
}

async function showHuman(ctx: ById): Promise<void> {
  respond(ctx, 200, humanToWire(await ctx.deps.directory.getHuman(ctx.params.id)));
}

async function disableHuman(ctx: ById): Promise<void> {
  respond(ctx, 200, humanToWire(await ctx.deps.directory.disableHuman(ctx.params.id, actionContext(ctx))));
}

export const humanRoutes = [
  defineRoute({
    method: 'POST', path: '/admin/v1/humans', family: 'admin', body: 'json', right: 'humans:write',
    summary: 'Add a human', schema: { body: addBody }, steps: [addHuman],
  }),
  defineRoute({
    method: 'GET', path: '/admin/v1/humans', family: 'admin', body: 'none', right: 'humans:read',
    summary: 'List humans', schema: {}, steps: [listHumans],
  }),
  defineRoute({
    method: 'GET', path: '/admin/v1/humans/:id', family: 'admin', body: 'none', right: 'humans:read',
    summary: 'Show a human', schema: { params: idParams }, steps: [showHuman],
  }),
  defineRoute({
    method: 'POST', path: '/admin/v1/humans/:id/disable', family: 'admin', body: 'none', right: 'humans:write',
    summary: 'Disable a human; agents left without an active owner are flagged as orphans', schema: { params: idParams }, steps: [disableHuman],
  }),
  ...humanAccessRoutes,
];
