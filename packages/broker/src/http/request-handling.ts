import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { MandateError } from '../core/errors.ts';
import { sendError } from './errors.ts';
import { registerBodyParsers } from './middleware/body-parsers.ts';
import type { RouteSpec } from './route-spec.ts';
import { methodsAt } from './routes.ts';

/**
 * What every Mandate HTTP instance shares, whatever its routes: request ids echoed back, the two
 * strict body parsers, one error format per family, 404 and 405. Tests reuse it for routes that
 * do not exist yet.
 */
export function installRequestHandling(app: FastifyInstance, routes: readonly RouteSpec[]): void {
  app.addHook('onRequest', (request, reply, done) => {
    reply.header('x-request-id', request.id);
    done();
  });
  registerBodyParsers(app);
  app.setErrorHandler((error, request, reply) => sendError(request, reply, error));
  app.setNotFoundHandler((request, reply) => sendError(request, reply, unmatched(routes, request)));
}

/** Fastify's `frameworkErrors` option: malformed URLs answer in the family's format too. */
export function frameworkErrors(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  sendError(request, reply, error);
}

function unmatched(routes: readonly RouteSpec[], request: FastifyRequest): MandateError {
  const path = request.url.split('?', 1)[0]!;
  const allowed = methodsAt(routes, path);
  if (allowed.length > 0)
    return new MandateError('ERR_REQUEST_METHOD_NOT_ALLOWED', `${request.method} is not allowed here`, { allowed });
  return new MandateError('ERR_REQUEST_NOT_FOUND', 'no such endpoint');
}
