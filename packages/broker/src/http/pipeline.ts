import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { MandateError } from '../core/errors.ts';
import { authenticateAdmin, requireRight } from './admin/authenticate.ts';
import type { HttpDeps } from './deps.ts';
import { FORM, JSON_TYPE } from './middleware/body-parsers.ts';
import { parseUrlEncoded } from './middleware/form-urlencoded.ts';
import { parseMediaType } from './middleware/media-type.ts';
import { validateInput } from './middleware/validate-input.ts';
import { createHeldIds } from '../proof/single-use.ts';
import type { RouteContext, RouteSpec, Step } from './route-spec.ts';

/** Steps run in `onRequest`, before the body is read: an unauthenticated caller's body is never parsed. */
export function gateSteps(spec: RouteSpec): Step[] {
  return spec.family === 'admin' ? [authenticateAdmin, requireRight] : [];
}

/** Steps run once the body is parsed, ending with the endpoint's own. */
export function handlerSteps(spec: RouteSpec): Step[] {
  return [checkContentType, parseQuery, validateRequest, ...spec.steps];
}

/** Every step of a route, in order. */
export function stepsOf(spec: RouteSpec): Step[] {
  return [...gateSteps(spec), ...handlerSteps(spec)];
}

const contexts = new WeakMap<FastifyRequest, RouteContext>();

export function registerRoute(app: FastifyInstance, spec: RouteSpec, deps: HttpDeps): void {
  if (spec.family === 'admin' && !spec.right) throw new Error(`admin route ${spec.method} ${spec.path} names no right`);
  const gate = gateSteps(spec);
  const handler = handlerSteps(spec);
  app.route({
    method: spec.method,
    url: spec.path,
    config: { family: spec.family },
    onRequest: async (request, reply) => {
      if (spec.dpopNonce) reply.header('dpop-nonce', deps.loop.nonces.current());
      const ctx = createContext(deps, spec, request);
      contexts.set(request, ctx);
      await runSteps(gate, ctx);
    },
    handler: async (request, reply) => {
      const ctx = contexts.get(request) ?? createContext(deps, spec, request);
      try {
        await runSteps(handler, ctx);
      } catch (error) {
        // A refused request's ids are spent all the same; a replayed one among them is the answer.
        throw (await ctx.held?.recordRefused(deps.clock.now())) ?? error;
      }
      await ctx.held?.recordNow(deps.clock.now());
      return send(reply, ctx);
    },
  });
}

function createContext(deps: HttpDeps, spec: RouteSpec, request: FastifyRequest): RouteContext {
  const held = spec.holdSingleUseIds ? createHeldIds(deps.store.replay) : null;
  return { deps, spec, request, requestId: request.id, caller: null, agent: null, dpop: null, held, params: {}, query: {}, body: {}, outcome: null };
}

async function runSteps(steps: readonly Step[], ctx: RouteContext): Promise<void> {
  for (const step of steps) await step(ctx);
}

function send(reply: FastifyReply, ctx: RouteContext): FastifyReply {
  if (!ctx.outcome) throw new MandateError('ERR_INTERNAL', `route ${ctx.spec.path} produced no response`);
  const base = ctx.spec.family === 'admin' ? { 'cache-control': 'no-store', 'content-type': 'application/json; charset=utf-8' } : {};
  return reply.code(ctx.outcome.status).headers({ ...base, ...ctx.outcome.headers }).send(ctx.outcome.body);
}

/** A body, when sent, must be in the route's format; `none` routes take at most an empty JSON object. */
function checkContentType(ctx: RouteContext): void {
  if (ctx.request.body === undefined) return;
  const expected = ctx.spec.body === 'form' ? FORM : JSON_TYPE;
  if (parseMediaType(ctx.request.headers['content-type'])?.essence !== expected)
    throw new MandateError('ERR_REQUEST_CONTENT_TYPE', `this endpoint takes ${expected}`, { accepted: expected });
}

/** Parsed from the raw URL, so a repeated parameter is an error rather than an array. */
function parseQuery(ctx: RouteContext): void {
  const url = ctx.request.url;
  const start = url.indexOf('?');
  ctx.query = parseUrlEncoded(start === -1 ? '' : url.slice(start + 1), 'ERR_REQUEST_INVALID_PARAMETER') as never;
}

const STRICT_EMPTY = z.strictObject({});
const LOOSE_EMPTY = z.object({});
const ANY_PARAMS = z.record(z.string(), z.string());

function validateRequest(ctx: RouteContext): void {
  const { schema, family, body } = ctx.spec;
  // RFC 6749 §3.1: OAuth endpoints ignore unknown parameters; the admin API refuses them.
  const empty = family === 'admin' ? STRICT_EMPTY : LOOSE_EMPTY;
  ctx.params = validateInput(schema.params ?? ANY_PARAMS, ctx.request.params) as never;
  ctx.query = validateInput(schema.query ?? empty, ctx.query) as never;
  ctx.body = validateInput(schema.body ?? (body === 'none' ? STRICT_EMPTY : empty), ctx.request.body ?? {}) as never;
}
