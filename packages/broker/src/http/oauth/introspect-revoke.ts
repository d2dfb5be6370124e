import { BROKER_PATH } from '@mandate/sdk/protocol';
import { z } from 'zod';
import { MandateError } from '../../core/errors.ts';
import type { IntrospectionCaller } from '../../services/introspect.ts';
import { limitClient } from '../rate-limit.ts';
import { defineRoute, respond, type RouteContext } from '../route-spec.ts';
import { authenticateClient, clientAuthFields, NO_STORE } from './client-steps.ts';

const introspectBody = z.object({
  token: z.string(),
  token_type_hint: z.string().optional(),
  client_id: z.string().optional(),
  client_secret: z.string().optional(),
});
type Introspect = RouteContext<{ body: typeof introspectBody }>;

const revokeBody = z.object({ ...clientAuthFields, token: z.string(), token_type_hint: z.string().optional() });
type Revoke = RouteContext<{ body: typeof revokeBody }>;

/** RFC 6749 §2.3.1: `client_secret_basic` (form-encoded id and secret) or `client_secret_post`, not both. */
function audienceCredentials(ctx: Introspect): IntrospectionCaller {
  const header = ctx.request.headers.authorization;
  if (header === undefined) return { clientId: ctx.body.client_id, secret: ctx.body.client_secret };
  if (ctx.body.client_secret !== undefined) throw new MandateError('ERR_INTROSPECT_CLIENT', 'use one client authentication method');
  const match = /^Basic ([A-Za-z0-9+/]+={0,2})$/.exec(header);
  const decoded = match ? Buffer.from(match[1]!, 'base64').toString('utf8') : '';
  const colon = decoded.indexOf(':');
  if (colon < 0) throw new MandateError('ERR_INTROSPECT_CLIENT', 'malformed Basic credentials');
  try {
    return { clientId: decodeURIComponent(decoded.slice(0, colon).replace(/\+/g, ' ')), secret: decodeURIComponent(decoded.slice(colon + 1).replace(/\+/g, ' ')) };
  } catch {
    throw new MandateError('ERR_INTROSPECT_CLIENT', 'malformed Basic credentials');
  }
}

async function introspect(ctx: Introspect): Promise<void> {
  respond(ctx, 200, await ctx.deps.loop.introspect(audienceCredentials(ctx), ctx.body.token), NO_STORE);
}

/** RFC 7009 §2.2: 200 whether or not the token was known or valid. */
async function revoke(ctx: Revoke): Promise<void> {
  await ctx.deps.loop.revocation.revokeByAgent(ctx.agent!, ctx.body.token, ctx.requestId);
  respond(ctx, 200, {}, NO_STORE);
}

export const introspectionRoutes = [
  defineRoute({
    method: 'POST', path: BROKER_PATH.introspect, family: 'oauth', body: 'form',
    summary: 'Token introspection for the token\'s own audience (RFC 7662)', schema: { body: introspectBody }, steps: [introspect],
  }),
  defineRoute({
    method: 'POST', path: BROKER_PATH.revoke, family: 'oauth', body: 'form',
    summary: 'Token revocation by the agent that holds it (RFC 7009)', schema: { body: revokeBody }, steps: [authenticateClient, limitClient, revoke],
  }),
];
