import { z } from 'zod';
import { ADMIN_RIGHTS } from '../../core/model.ts';
import { defineRoute, respond, type RouteContext } from '../route-spec.ts';
import { actionContext } from './authenticate.ts';
import { tokenToWire } from './wire.ts';

const TEN_YEARS_S = 10 * 366 * 86_400;
const idParams = z.strictObject({ id: z.string() });

const createBody = z.strictObject({
  /** Defaults to the caller; another human's token needs the `admin` right. */
  human_id: z.string().max(64).optional(),
  label: z.string().min(1).max(100).regex(/^[^\p{Cc}]+$/u, 'must not contain control characters'),
  rights: z.array(z.enum(ADMIN_RIGHTS)).min(1).max(ADMIN_RIGHTS.length),
  /** Seconds, as OAuth's `expires_in`. Absent: the token does not expire. */
  expires_in: z.int().min(1).max(TEN_YEARS_S).optional(),
});
type CreateToken = RouteContext<{ body: typeof createBody }>;
type ById = RouteContext<{ params: typeof idParams }>;

async function createToken(ctx: CreateToken): Promise<void> {
  const { human_id, label, rights, expires_in } = ctx.body;
  const caller = ctx.caller!;
  const input = { humanId: human_id ?? caller.human.id, label, rights, expiresInMs: expires_in === undefined ? null : expires_in * 1000 };
  const issued = await ctx.deps.adminTokens.create(input, { ...actionContext(ctx), callerRights: caller.token.rights });
  respond(ctx, 201, { ...tokenToWire(issued.token), secret: issued.secret });
}

async function listTokens(ctx: RouteContext): Promise<void> {
  respond(ctx, 200, { tokens: (await ctx.deps.adminTokens.list()).map(tokenToWire) });
}

async function revokeToken(ctx: ById): Promise<void> {
  respond(ctx, 200, tokenToWire(await ctx.deps.adminTokens.revoke(ctx.params.id, actionContext(ctx))));
}

export const tokenRoutes = [
  defineRoute({
    method: 'POST', path: '/admin/v1/tokens', family: 'admin', body: 'json', right: 'tokens:manage',
    summary: 'Create an admin token (the secret is returned once)', schema: { body: createBody }, steps: [createToken],
  }),
  defineRoute({
    method: 'GET', path: '/admin/v1/tokens', family: 'admin', body: 'none', right: 'tokens:manage',
    summary: 'List admin tokens (never their secrets)', schema: {}, steps: [listTokens],
  }),
  defineRoute({
    method: 'POST', path: '/admin/v1/tokens/:id/revoke', family: 'admin', body: 'none', right: 'tokens:manage',
    summary: 'Revoke an admin token', schema: { params: idParams }, steps: [revokeToken],
  }),
];
