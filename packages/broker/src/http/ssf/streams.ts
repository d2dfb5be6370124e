import { BROKER_PATH } from '@mandate/sdk/protocol';
import { z } from 'zod';
import { ssfConfiguration, SSF_PATH, streamConfiguration } from '../../core/ssf.ts';
import { createSsfStreamService } from '../../services/ssf-streams.ts';
import { NO_STORE } from '../oauth/client-steps.ts';
import { defineRoute, respond, type RouteContext } from '../route-spec.ts';
import { authenticateAudience } from './audience-auth.ts';

const delivery = z.object({ method: z.string().optional(), endpoint_url: z.string().optional() });
const createBody = z.object({ delivery, events_requested: z.array(z.string()).optional(), description: z.string().max(500).optional() });
const updateBody = createBody.partial().extend({ stream_id: z.string() });
const byId = z.object({ stream_id: z.string() });
const listQuery = z.object({ stream_id: z.string().optional() });
type Create = RouteContext<{ body: typeof createBody }>;
type Update = RouteContext<{ body: typeof updateBody }>;
type ById = RouteContext<{ query: typeof byId }>;
type List = RouteContext<{ query: typeof listQuery }>;

const service = (ctx: RouteContext) => createSsfStreamService(ctx.deps);
const JSON_NO_STORE = { ...NO_STORE, 'content-type': 'application/json; charset=utf-8' };

/** SSF 1.0 §7.2: public, like the AS metadata. */
function serveConfiguration(ctx: RouteContext): void {
  const { issuer } = ctx.deps.config;
  respond(ctx, 200, ssfConfiguration(issuer, issuer + BROKER_PATH.jwks), { 'cache-control': 'public, max-age=60' });
}

/** SSF 1.0 §8.1.1.1: 201 with the stream's configuration. */
async function createStream(ctx: Create): Promise<void> {
  const stream = await service(ctx).create(authenticateAudience(ctx), ctx.body, ctx.requestId);
  respond(ctx, 201, streamConfiguration(stream, ctx.deps.config.issuer), JSON_NO_STORE);
}

/** SSF 1.0 §8.1.1.2: one stream by `stream_id`, else every stream of the audience. */
async function readStreams(ctx: List): Promise<void> {
  const audience = authenticateAudience(ctx);
  const { issuer } = ctx.deps.config;
  if (ctx.query.stream_id !== undefined) return respond(ctx, 200, streamConfiguration(await service(ctx).owned(audience, ctx.query.stream_id), issuer), JSON_NO_STORE);
  respond(ctx, 200, (await service(ctx).list(audience)).map((stream) => streamConfiguration(stream, issuer)), JSON_NO_STORE);
}

async function updateStream(ctx: Update): Promise<void> {
  const { stream_id: id, ...request } = ctx.body;
  const stream = await service(ctx).update(authenticateAudience(ctx), id, request, ctx.requestId);
  respond(ctx, 200, streamConfiguration(stream, ctx.deps.config.issuer), JSON_NO_STORE);
}

async function deleteStream(ctx: ById): Promise<void> {
  await service(ctx).remove(authenticateAudience(ctx), ctx.query.stream_id, ctx.requestId);
  respond(ctx, 204, undefined, NO_STORE);
}

export const ssfStreamRoutes = [
  defineRoute({ method: 'GET', path: SSF_PATH.configuration, family: 'oauth', body: 'none', summary: 'OpenID SSF transmitter configuration', schema: {}, steps: [serveConfiguration] }),
  defineRoute({ method: 'POST', path: SSF_PATH.streams, family: 'oauth', body: 'json', summary: 'Create an SSF push stream (OpenID SSF 1.0)', schema: { body: createBody }, steps: [createStream] }),
  defineRoute({ method: 'GET', path: SSF_PATH.streams, family: 'oauth', body: 'none', summary: 'Read SSF streams of the calling audience', schema: { query: listQuery }, steps: [readStreams] }),
  defineRoute({ method: 'PATCH', path: SSF_PATH.streams, family: 'oauth', body: 'json', summary: 'Update an SSF stream', schema: { body: updateBody }, steps: [updateStream] }),
  defineRoute({ method: 'DELETE', path: SSF_PATH.streams, family: 'oauth', body: 'none', summary: 'Delete an SSF stream', schema: { query: byId }, steps: [deleteStream] }),
];
