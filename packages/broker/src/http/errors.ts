import type { FastifyReply, FastifyRequest } from 'fastify';
import { ERROR_CATALOGUE, isMandateError, MandateError, type ErrorCode } from '../core/errors.ts';

/** OAuth endpoints speak RFC 6749 §5.2 errors; the admin API speaks RFC 9457 problems. */
export type Family = 'oauth' | 'admin';

export interface WireError {
  status: number;
  headers: Record<string, string>;
  body: Record<string, unknown>;
}

/** Fastify's own errors, each mapped onto a catalogue code with a message for the caller. */
const FRAMEWORK_ERRORS: Record<string, [ErrorCode, string]> = {
  FST_ERR_CTP_BODY_TOO_LARGE: ['ERR_REQUEST_BODY_TOO_LARGE', 'the request body is larger than the server accepts'],
  FST_ERR_CTP_INVALID_MEDIA_TYPE: ['ERR_REQUEST_CONTENT_TYPE', 'unsupported content type'],
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: ['ERR_REQUEST_MALFORMED_BODY', 'the body length does not match Content-Length'],
  FST_ERR_CTP_EMPTY_JSON_BODY: ['ERR_REQUEST_MALFORMED_BODY', 'the JSON body is empty'],
  FST_ERR_CTP_INVALID_JSON_BODY: ['ERR_REQUEST_MALFORMED_BODY', 'the body is not valid JSON'],
  FST_ERR_ROUTE_MISSING_CONTENT_TYPE: ['ERR_REQUEST_CONTENT_TYPE', 'a Content-Type is required'],
  FST_ERR_BAD_URL: ['ERR_REQUEST_INVALID_PARAMETER', 'the URL path is not validly percent-encoded'],
  FST_ERR_MAX_PARAM_LENGTH: ['ERR_REQUEST_NOT_FOUND', 'no such resource'],
};

const BY_STATUS: Record<number, ErrorCode> = {
  404: 'ERR_REQUEST_NOT_FOUND',
  405: 'ERR_REQUEST_METHOD_NOT_ALLOWED',
  413: 'ERR_REQUEST_BODY_TOO_LARGE',
  415: 'ERR_REQUEST_CONTENT_TYPE',
};

/** Anything thrown becomes a catalogue error; what is not recognised is an internal error. */
export function toMandateError(error: unknown): MandateError {
  if (isMandateError(error)) return error;
  const { code, statusCode } = (error ?? {}) as { code?: unknown; statusCode?: unknown };
  const known = typeof code === 'string' ? FRAMEWORK_ERRORS[code] : undefined;
  if (known) return new MandateError(known[0], known[1]);
  if (error instanceof SyntaxError) return new MandateError('ERR_REQUEST_MALFORMED_BODY', 'the body could not be parsed');
  if (typeof statusCode === 'number' && statusCode >= 400 && statusCode < 500) {
    const mapped = BY_STATUS[statusCode] ?? 'ERR_REQUEST_MALFORMED_BODY';
    return new MandateError(mapped, ERROR_CATALOGUE[mapped].title.toLowerCase());
  }
  return new MandateError('ERR_INTERNAL', 'internal error');
}

/** The one error-to-wire function. 5xx bodies carry the catalogue title only, never internals. */
export function errorToWire(error: MandateError, family: Family, requestId: string): WireError {
  const entry = ERROR_CATALOGUE[error.code];
  const detail = entry.status >= 500 && error.code === 'ERR_INTERNAL' ? entry.title : error.message;
  const headers: Record<string, string> = { 'cache-control': 'no-store', 'x-request-id': requestId };
  const challenge = challengeFor(error, family);
  if (challenge) headers['www-authenticate'] = challenge;
  // RFC 9110 §15.5.6: a 405 lists the methods the resource supports.
  if (error.code === 'ERR_REQUEST_METHOD_NOT_ALLOWED' && Array.isArray(error.details.allowed)) headers.allow = error.details.allowed.join(', ');
  if (family === 'oauth') {
    headers.pragma = 'no-cache';
    headers['content-type'] = 'application/json; charset=utf-8';
    // PROTOCOL §5: a machine-readable reason next to the RFC code.
    const reason = typeof error.details.mandate_error === 'string' ? { mandate_error: error.details.mandate_error } : {};
    return { status: entry.status, headers, body: { error: entry.oauth, error_description: oauthDescription(detail), ...reason } };
  }
  headers['content-type'] = 'application/problem+json; charset=utf-8';
  const body = { ...error.details, type: 'about:blank', title: entry.title, status: entry.status, detail, code: error.code, instance: requestId };
  return { status: entry.status, headers, body };
}

/** RFC 6750 §3 for the admin API's bearer tokens; RFC 6749 §5.2 for `invalid_client`. */
function challengeFor(error: MandateError, family: Family): string | null {
  if (family === 'admin') {
    if (error.code === 'ERR_ADMIN_UNAUTHENTICATED')
      return error.details.reason === 'invalid_token' ? 'Bearer realm="mandate-admin", error="invalid_token"' : 'Bearer realm="mandate-admin"';
    if (error.code === 'ERR_ADMIN_FORBIDDEN') return 'Bearer realm="mandate-admin", error="insufficient_scope"';
    return null;
  }
  return ERROR_CATALOGUE[error.code].oauth === 'invalid_client' && ERROR_CATALOGUE[error.code].status === 401
    ? 'Bearer realm="mandate", error="invalid_client"'
    : null;
}

/** RFC 6749 §5.2: `error_description` is limited to %x20-21 / %x23-5B / %x5D-7E. */
function oauthDescription(message: string): string {
  return message.replace(/…/g, '...').replace(/"/g, "'").replace(/\\/g, '/').replace(/[^\x20-\x7e]/g, '?');
}

/** The family of the matched route; for unmatched paths, the admin API owns `/admin`. */
export function familyOf(request: FastifyRequest): Family {
  const family = (request.routeOptions?.config as { family?: Family } | undefined)?.family;
  if (family) return family;
  return request.url === '/admin' || request.url.startsWith('/admin/') || request.url.startsWith('/admin?') ? 'admin' : 'oauth';
}

/** Sends any error in its family's format; server-side failures are logged with the request id. */
export function sendError(request: FastifyRequest, reply: FastifyReply, error: unknown, family = familyOf(request)): FastifyReply {
  const mandateError = toMandateError(error);
  if (mandateError.status >= 500) request.log.error({ err: error }, 'request failed');
  else request.log.info({ code: mandateError.code }, 'request rejected');
  const wire = errorToWire(mandateError, family, request.id);
  return reply.code(wire.status).headers(wire.headers).send(wire.body);
}
