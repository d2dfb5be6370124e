import type { FastifyInstance, FastifyRequest } from 'fastify';
import { MandateError } from '../../core/errors.ts';
import { parseUrlEncoded } from './form-urlencoded.ts';
import { hasUtf8Charset, parseMediaType } from './media-type.ts';
import { parseStrictJson } from './strict-json.ts';

export const FORM = 'application/x-www-form-urlencoded';
export const JSON_TYPE = 'application/json';

/** RFC 8707 §2: `resource` may be repeated; the token endpoint refuses several as `invalid_target`. */
const REPEATABLE: ReadonlySet<string> = new Set(['resource']);

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * The only two body formats the broker reads. Every other content type (fastify's default
 * text/plain included) has no parser, so fastify refuses it with 415 before any handler runs.
 */
export function registerBodyParsers(app: FastifyInstance): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(JSON_TYPE, { parseAs: 'buffer' }, (request, body, done) => {
    settle(done, () => parseStrictJson(decodeBody(request, body as Buffer)));
  });
  app.addContentTypeParser(FORM, { parseAs: 'buffer' }, (request, body, done) => {
    settle(done, () => parseUrlEncoded(decodeBody(request, body as Buffer), 'ERR_REQUEST_MALFORMED_BODY', REPEATABLE));
  });
}

function settle(done: (error: Error | null, body?: unknown) => void, parse: () => unknown): void {
  try {
    done(null, parse());
  } catch (error) {
    done(error as Error);
  }
}

function decodeBody(request: FastifyRequest, body: Buffer): string {
  const media = parseMediaType(request.headers['content-type']);
  if (!media || !hasUtf8Charset(media))
    throw new MandateError('ERR_REQUEST_CONTENT_TYPE', 'request bodies must be UTF-8 (charset=utf-8 or no charset)');
  try {
    return utf8.decode(body);
  } catch {
    throw new MandateError('ERR_REQUEST_MALFORMED_BODY', 'the body is not valid UTF-8');
  }
}
