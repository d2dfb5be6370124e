import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { MandateError } from '../../core/errors.ts';
import type { HttpDeps } from '../deps.ts';
import { errorToWire } from '../errors.ts';
import { checkReadiness } from './readiness.ts';

export const OPS_PATHS = { health: '/healthz', ready: '/readyz', metrics: '/metrics' } as const;

/** A store that takes longer than this to answer `SELECT 1` is as good as down for a balancer. */
const STORE_TIMEOUT_MS = 2000;
/** Probes come every few seconds: their request lines would drown the rest at `info`. */
const PROBE_LOG_LEVEL = 'warn';
const NO_STORE = { 'cache-control': 'no-store' };

/**
 * Operator endpoints beside the route table (docs/operations.md): liveness, readiness, metrics.
 * They take no body and no credentials, except /metrics when `metrics.bearerToken` is set.
 * Also counts every request in flight and times it, whatever its route.
 */
export function registerOpsRoutes(app: FastifyInstance, deps: HttpDeps): void {
  trackRequests(app, deps);
  const config = { family: 'admin' };
  app.get(OPS_PATHS.health, { config, logLevel: PROBE_LOG_LEVEL }, async (_request, reply) => reply.headers(NO_STORE).send({ status: 'ok' }));
  app.get(OPS_PATHS.ready, { config, logLevel: PROBE_LOG_LEVEL }, (request, reply) => answerReadiness(request, reply, deps));
  if (deps.config.metrics.enabled) app.get(OPS_PATHS.metrics, { config, logLevel: PROBE_LOG_LEVEL }, (request, reply) => answerMetrics(request, reply, deps));
}

async function answerReadiness(request: FastifyRequest, reply: FastifyReply, deps: HttpDeps): Promise<FastifyReply> {
  const readiness = await checkReadiness({ store: deps.store, keys: deps.keys, serving: deps.serving, timeoutMs: STORE_TIMEOUT_MS });
  if (readiness.ready) return reply.headers(NO_STORE).send({ status: 'ready', checks: readiness.checks });
  request.log.warn({ checks: readiness.checks }, 'not ready');
  const wire = errorToWire(new MandateError('ERR_OPS_NOT_READY', readiness.failures.join('; '), { checks: readiness.checks }), 'admin', request.id);
  return reply.code(wire.status).headers(wire.headers).send(wire.body);
}

async function answerMetrics(request: FastifyRequest, reply: FastifyReply, deps: HttpDeps): Promise<FastifyReply> {
  const expected = deps.config.metrics.bearerToken;
  if (expected !== undefined && !bearerMatches(request.headers.authorization, expected)) {
    const wire = errorToWire(new MandateError('ERR_OPS_METRICS_UNAUTHENTICATED', 'send Authorization: Bearer with the metrics token'), 'admin', request.id);
    return reply.code(wire.status).headers({ ...wire.headers, 'www-authenticate': 'Bearer realm="mandate-metrics"' }).send(wire.body);
  }
  return reply.headers({ ...NO_STORE, 'content-type': deps.metrics.contentType }).send(await deps.metrics.render());
}

/** Constant-time: both sides hashed first, so neither length nor content leaks through timing. */
function bearerMatches(header: string | undefined, expected: string): boolean {
  const presented = header?.startsWith('Bearer ') ? header.slice('Bearer '.length) : '';
  const digest = (value: string) => createHash('sha256').update(value).digest();
  return timingSafeEqual(digest(presented), digest(expected));
}

/** In-flight count (for draining) and per-route counts and times; `route` is the pattern, never the raw URL. */
function trackRequests(app: FastifyInstance, deps: HttpDeps): void {
  app.addHook('onRequest', (request, reply, done) => {
    deps.serving.requestStarted();
    reply.raw.once('close', () => {
      deps.serving.requestEnded();
      deps.metrics.httpRequest(request.method, request.routeOptions.url ?? 'unmatched', reply.statusCode, reply.elapsedTime / 1000);
    });
    done();
  });
  // While draining, a finished response also ends its keep-alive connection (RFC 9112 §9.6),
  // so the server can close as soon as the last in-flight request is answered.
  app.addHook('onSend', (_request, reply, payload, done) => {
    if (deps.serving.draining) reply.header('connection', 'close');
    done(null, payload);
  });
}
