import { z } from 'zod';
import { SSF_PATH } from '../../core/ssf.ts';
import { createSsfStreamService } from '../../services/ssf-streams.ts';
import { NO_STORE } from '../oauth/client-steps.ts';
import { defineRoute, respond, type RouteContext } from '../route-spec.ts';
import { authenticateAudience } from './audience-auth.ts';

const byId = z.object({ stream_id: z.string() });
const statusBody = z.object({ stream_id: z.string(), status: z.string(), reason: z.string().max(500).optional() });
const subjectBody = z.object({ stream_id: z.string(), subject: z.unknown(), verified: z.boolean().optional() });
const verifyBody = z.object({ stream_id: z.string(), state: z.string().max(500).optional() });
type ReadStatus = RouteContext<{ query: typeof byId }>;
type WriteStatus = RouteContext<{ body: typeof statusBody }>;
type Subject = RouteContext<{ body: typeof subjectBody }>;
type Verify = RouteContext<{ body: typeof verifyBody }>;

const service = (ctx: RouteContext) => createSsfStreamService(ctx.deps);
const JSON_NO_STORE = { ...NO_STORE, 'content-type': 'application/json; charset=utf-8' };
const statusOf = (stream: { id: string; status: string; reason: string | null }) => ({ stream_id: stream.id, status: stream.status, ...(stream.reason ? { reason: stream.reason } : {}) });

/** SSF 1.0 §8.1.2.1 */
async function readStatus(ctx: ReadStatus): Promise<void> {
  respond(ctx, 200, statusOf(await service(ctx).owned(authenticateAudience(ctx), ctx.query.stream_id)), JSON_NO_STORE);
}

/** SSF 1.0 §8.1.2.2 */
async function writeStatus(ctx: WriteStatus): Promise<void> {
  const stream = await service(ctx).setStatus(authenticateAudience(ctx), ctx.body.stream_id, ctx.body.status, ctx.body.reason, ctx.requestId);
  respond(ctx, 200, statusOf(stream), JSON_NO_STORE);
}

/** SSF 1.0 §8.1.3.2: 200 with an empty body. */
async function addSubject(ctx: Subject): Promise<void> {
  await service(ctx).addSubject(authenticateAudience(ctx), ctx.body.stream_id, ctx.body.subject);
  respond(ctx, 200, {}, JSON_NO_STORE);
}

/** SSF 1.0 §8.1.3.3: 204. */
async function removeSubject(ctx: Subject): Promise<void> {
  await service(ctx).removeSubject(authenticateAudience(ctx), ctx.body.stream_id, ctx.body.subject);
  respond(ctx, 204, undefined, NO_STORE);
}

/** SSF 1.0 §8.1.4.2: 204; the verification event follows on the stream. */
async function verify(ctx: Verify): Promise<void> {
  await service(ctx).verify(authenticateAudience(ctx), ctx.body.stream_id, ctx.body.state);
  respond(ctx, 204, undefined, NO_STORE);
}

export const ssfControlRoutes = [
  defineRoute({ method: 'GET', path: SSF_PATH.status, family: 'oauth', body: 'none', summary: 'Read an SSF stream status', schema: { query: byId }, steps: [readStatus] }),
  defineRoute({ method: 'POST', path: SSF_PATH.status, family: 'oauth', body: 'json', summary: 'Enable, pause or disable an SSF stream', schema: { body: statusBody }, steps: [writeStatus] }),
  defineRoute({ method: 'POST', path: SSF_PATH.addSubject, family: 'oauth', body: 'json', summary: 'Limit an SSF stream to a subject', schema: { body: subjectBody }, steps: [addSubject] }),
  defineRoute({ method: 'POST', path: SSF_PATH.removeSubject, family: 'oauth', body: 'json', summary: 'Remove a subject from an SSF stream', schema: { body: subjectBody }, steps: [removeSubject] }),
  defineRoute({ method: 'POST', path: SSF_PATH.verify, family: 'oauth', body: 'json', summary: 'Request an SSF verification event', schema: { body: verifyBody }, steps: [verify] }),
];
