import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';

/**
 * Answers for requests Node's HTTP parser refuses before any route runs: broken framing (400),
 * request line and headers over `server.maxHeaderBytes` (431), headers or the whole request not in
 * time (408). Same statuses as fastify's default, but the body is the RFC 6749 §5.2 error object
 * every other refusal of an OAuth endpoint uses (the path is unknown here, so the admin API's
 * problem+json cannot be chosen; docs/limits.md). The connection is closed: after a framing error
 * the next byte of the stream cannot be trusted to start a request.
 */
const DESCRIPTIONS: Record<number, string> = {
  400: 'the request is not well-formed HTTP/1.1',
  408: 'the request was not received in time',
  431: 'the request line and headers are larger than the server accepts',
};

export function clientErrorStatus(code: string | undefined): 400 | 408 | 431 {
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT') return 408;
  if (code === 'HPE_HEADER_OVERFLOW') return 431;
  return 400;
}

export function clientErrorResponse(status: 400 | 408 | 431): string {
  const body = JSON.stringify({ error: 'invalid_request', error_description: DESCRIPTIONS[status] });
  const head = [
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}`, 'Content-Type: application/json; charset=utf-8', 'Cache-Control: no-store',
    'Connection: close', `Content-Length: ${Buffer.byteLength(body)}`,
  ];
  return `${head.join('\r\n')}\r\n\r\n${body}`;
}

/** fastify's `clientErrorHandler` option (`this` is the server instance). */
export function clientErrorHandler(this: FastifyInstance, error: Error & { code?: string }, socket: Socket): void {
  // A reset peer or a socket already gone has no one to read an answer.
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const status = clientErrorStatus(error.code);
  this.log.debug({ code: error.code, status }, 'request refused by the HTTP parser');
  if (socket.writable) socket.write(clientErrorResponse(status));
  socket.destroy();
}
