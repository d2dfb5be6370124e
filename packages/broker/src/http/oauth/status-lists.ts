import { STATUS_LIST_MEDIA_TYPE } from '@mandate/sdk/status-list';
import { z } from 'zod';
import { createStatusListService, STATUS_LIST_PATH } from '../../services/status-list.ts';
import { defineRoute, respond, type RouteContext } from '../route-spec.ts';

const params = z.object({ id: z.string().regex(/^[1-9][0-9]{0,8}$/) });
type Serve = RouteContext<{ params: typeof params }>;

/**
 * draft-ietf-oauth-status-list §8: the Status List Token, public (its indexes are random, so it
 * reveals nothing about a token without the token). `max-age` equals the token's `ttl`, which is
 * `revocation.statusListTtl`: the bound a verifier in status-list mode sees a revocation within.
 */
async function serveStatusList(ctx: Serve): Promise<void> {
  const { jwt, maxAge } = await createStatusListService(ctx.deps).token(ctx.params.id);
  respond(ctx, 200, jwt, { 'content-type': STATUS_LIST_MEDIA_TYPE, 'cache-control': `public, max-age=${maxAge}` });
}

export const statusListRoutes = [
  defineRoute({
    method: 'GET', path: `${STATUS_LIST_PATH}/:id`, family: 'oauth', body: 'none',
    summary: 'Token Status List (draft-ietf-oauth-status-list) of access tokens', schema: { params }, steps: [serveStatusList],
  }),
];
