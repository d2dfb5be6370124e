import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { formatId } from '../core/ids.ts';
import type { HttpDeps } from './deps.ts';
import { createLogger } from './logger.ts';
import { registerRoute } from './pipeline.ts';
import { frameworkErrors, installRequestHandling } from './request-handling.ts';
import { ROUTES } from './routes.ts';

export type { HttpDeps } from './deps.ts';

/**
 * The broker's HTTP server: every route of the one route table, nothing else. Nothing here trusts
 * `Host` or `X-Forwarded-*` (PROTOCOL §1), and incoming request ids are ignored: ours are random.
 */
export async function createHttpServer(deps: HttpDeps): Promise<FastifyInstance> {
  const logger: FastifyBaseLogger = createLogger(deps.config.log.level);
  const app = Fastify({
    loggerInstance: logger,
    bodyLimit: deps.config.server.bodyLimitBytes,
    genReqId: () => formatId('request', deps.random.base64url(16)),
    requestIdHeader: false,
    trustProxy: false,
    frameworkErrors,
  });
  installRequestHandling(app, ROUTES);
  for (const spec of ROUTES) registerRoute(app, spec, deps);
  return app;
}
