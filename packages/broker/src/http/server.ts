import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { DestinationStream } from 'pino';
import type { Config } from '../config/load.ts';
import type { HttpDeps } from './deps.ts';
import { clientErrorHandler } from './client-error.ts';
import { createLogger } from './logger.ts';
import { registerRoute } from './pipeline.ts';
import { registerOpsRoutes } from './ops/health.ts';
import { frameworkErrors, installRequestHandling } from './request-handling.ts';
import { createRequestIdGenerator } from './request-id.ts';
import { ROUTES } from './routes.ts';
import { createRateLimits, installRateLimits, warnIfSharedAddress } from './rate-limit.ts';
import { registerConsole } from '../console/plugin.ts';

export type { HttpDeps } from './deps.ts';

/**
 * The broker's HTTP server: every route of the one route table, nothing else. Nothing here trusts
 * `Host` or `X-Forwarded-Host/Proto` (PROTOCOL §1); `X-Forwarded-For` names the client address
 * only when the socket peer is in `server.trustedProxies` (docs/limits.md). Request ids are
 * random unless the caller sends a well-formed `X-Request-Id` (see request-id.ts).
 */
export interface HttpServerOptions {
  /** Where JSON log lines go (stdout by default). */
  logDestination?: DestinationStream | undefined;
}

export async function createHttpServer(deps: HttpDeps, options: HttpServerOptions = {}): Promise<FastifyInstance> {
  const logger: FastifyBaseLogger = createLogger(deps.config.log.level, options.logDestination);
  const { trustedProxies } = deps.config.server;
  const app = Fastify({
    loggerInstance: logger,
    bodyLimit: deps.config.server.bodyLimitBytes,
    genReqId: createRequestIdGenerator(deps.random),
    requestIdHeader: false,
    // docs/limits.md: X-Forwarded-For is believed only from configured proxies (proxy-addr semantics).
    trustProxy: trustedProxies.length > 0 ? trustedProxies : false,
    ...connectionLimits(deps.config.server),
    frameworkErrors,
    // docs/limits.md: 400 / 408 / 431 from Node's parser in the RFC 6749 error body, then close.
    clientErrorHandler,
  });
  installRequestHandling(app, ROUTES);
  installRateLimits(app, createRateLimits(deps.config.limits), ROUTES, deps.metrics);
  warnIfSharedAddress(app.log, deps.config);
  registerOpsRoutes(app, deps);
  for (const spec of ROUTES) registerRoute(app, spec, deps);
  await registerConsole(app, deps, deps.console);
  return app;
}

/**
 * Size and time limits of the node:http server (docs/limits.md): request line + headers (431),
 * headers and whole-request deadlines (408, against slow senders), idle and keep-alive sockets.
 * Node checks the two deadlines every `connectionsCheckingInterval` (30 s by default, which
 * would let a short deadline overrun by that much), so the check runs at a quarter of the
 * shorter one, between 50 ms and 5 s.
 */
export function connectionLimits(server: Config['server']) {
  const shortest = Math.min(server.headersTimeout, server.requestTimeout);
  return {
    requestTimeout: server.requestTimeout,
    connectionTimeout: server.connectionTimeout,
    keepAliveTimeout: server.keepAliveTimeout,
    http: {
      maxHeaderSize: server.maxHeaderBytes,
      headersTimeout: server.headersTimeout,
      connectionsCheckingInterval: Math.min(5_000, Math.max(50, Math.floor(shortest / 4))),
    },
  };
}
