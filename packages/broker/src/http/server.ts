import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { DestinationStream } from 'pino';
import type { HttpDeps } from './deps.ts';
import { createLogger } from './logger.ts';
import { registerRoute } from './pipeline.ts';
import { registerOpsRoutes } from './ops/health.ts';
import { frameworkErrors, installRequestHandling } from './request-handling.ts';
import { createRequestIdGenerator } from './request-id.ts';
import { ROUTES } from './routes.ts';
import { registerConsole } from '../console/plugin.ts';

export type { HttpDeps } from './deps.ts';

/**
 * The broker's HTTP server: every route of the one route table, nothing else. Nothing here trusts
 * `Host` or `X-Forwarded-*` (PROTOCOL §1). Request ids are random unless the caller sends a
 * well-formed `X-Request-Id` (see request-id.ts).
 */
export interface HttpServerOptions {
  /** Where JSON log lines go (stdout by default). */
  logDestination?: DestinationStream | undefined;
}

export async function createHttpServer(deps: HttpDeps, options: HttpServerOptions = {}): Promise<FastifyInstance> {
  const logger: FastifyBaseLogger = createLogger(deps.config.log.level, options.logDestination);
  const app = Fastify({
    loggerInstance: logger,
    bodyLimit: deps.config.server.bodyLimitBytes,
    genReqId: createRequestIdGenerator(deps.random),
    requestIdHeader: false,
    trustProxy: false,
    frameworkErrors,
  });
  installRequestHandling(app, ROUTES);
  registerOpsRoutes(app, deps);
  for (const spec of ROUTES) registerRoute(app, spec, deps);
  await registerConsole(app, deps, deps.console);
  return app;
}
