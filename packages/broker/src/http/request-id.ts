import type { IncomingMessage } from 'node:http';
import { formatId, isIdOf } from '../core/ids.ts';
import type { Random } from '../ports/random.ts';

export const REQUEST_ID_HEADER = 'x-request-id';

/**
 * The id of one request (PROTOCOL §1: `req_` + 22 base64url characters), echoed as `X-Request-Id`,
 * bound to every log line of the request and written into its audit events. A caller or gateway
 * may choose it by sending `X-Request-Id` in exactly that form (one header, nothing else), so a
 * trace can be followed across hops; anything else is ignored and a random id is made. A chosen
 * id is a correlation aid, not proof of uniqueness.
 *
 * @example
 * const genReqId = createRequestIdGenerator(cryptoRandom);
 * genReqId(request.raw); // 'req_…'
 */
export function createRequestIdGenerator(random: Random): (raw: IncomingMessage) => string {
  return (raw) => acceptedRequestId(raw.headers[REQUEST_ID_HEADER]) ?? formatId('request', random.base64url(16));
}

/** The incoming id when it is a single well-formed request id, else null. */
export function acceptedRequestId(value: string | string[] | undefined): string | null {
  return typeof value === 'string' && isIdOf('request', value) ? value : null;
}
