import { rotateSigningKey } from '../../services/key-rotation.ts';
import { defineRoute, respond, type RouteContext } from '../route-spec.ts';
import { actionContext } from './authenticate.ts';
import { keyToWire } from './wire.ts';

async function listKeys(ctx: RouteContext): Promise<void> {
  const now = ctx.deps.clock.now();
  respond(ctx, 200, { keys: (await ctx.deps.store.keys.list()).map((key) => keyToWire(key, now)) });
}

async function rotateKey(ctx: RouteContext): Promise<void> {
  const record = await rotateSigningKey(ctx.deps, actionContext(ctx));
  respond(ctx, 201, keyToWire(record, ctx.deps.clock.now()));
}

export const keyRoutes = [
  defineRoute({
    method: 'GET', path: '/admin/v1/keys', family: 'admin', body: 'none', right: 'keys:read',
    summary: 'List signing keys (metadata only)', schema: {}, steps: [listKeys],
  }),
  defineRoute({
    method: 'POST', path: '/admin/v1/keys/rotate', family: 'admin', body: 'none', right: 'keys:rotate',
    summary: 'Create a new signing key; the previous one stays published for the overlap', schema: {}, steps: [rotateKey],
  }),
];
