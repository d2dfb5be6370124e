import { clip } from '../../core/clip.ts';
import { MandateError, type ErrorCode } from '../../core/errors.ts';

/**
 * `application/x-www-form-urlencoded` (WHATWG URL §5.1), strictly: every `%` starts a valid
 * escape, decoded bytes are UTF-8, and (RFC 6749 §3.1) no parameter appears twice, except those
 * named in `repeatable`, which become arrays when repeated. Also used for query strings. Returns a
 * null-prototype object, so no name reaches `Object.prototype`.
 */
export function parseUrlEncoded(text: string, malformed: ErrorCode, repeatable: ReadonlySet<string> = NONE): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = Object.create(null) as Record<string, string | string[]>;
  for (const piece of text.split('&')) {
    if (piece === '') continue;
    const eq = piece.indexOf('=');
    const name = decodeComponent(eq === -1 ? piece : piece.slice(0, eq), malformed);
    const value = eq === -1 ? '' : decodeComponent(piece.slice(eq + 1), malformed);
    if (name === '') throw new MandateError(malformed, 'a parameter has an empty name');
    const seen = Object.hasOwn(out, name) ? out[name]! : undefined;
    if (seen !== undefined && !repeatable.has(name))
      throw new MandateError('ERR_REQUEST_DUPLICATE_PARAMETER', `parameter ${clip(name)} appears more than once`, { parameter: clip(name) });
    out[name] = seen === undefined ? value : [...(Array.isArray(seen) ? seen : [seen]), value];
  }
  return out;
}

const NONE: ReadonlySet<string> = new Set();

const BAD_ESCAPE = /%(?![0-9A-Fa-f]{2})/;

/** Nothing to decode: no escape and no `+` (JWTs, ids and grant types are sent as they are). */
const PLAIN = /^[^%+]*$/;

function decodeComponent(raw: string, malformed: ErrorCode): string {
  if (PLAIN.test(raw)) return raw;
  if (BAD_ESCAPE.test(raw)) throw new MandateError(malformed, 'malformed percent-encoding');
  try {
    // decodeURIComponent throws on byte sequences that are not UTF-8.
    return decodeURIComponent(raw.replace(/\+/g, ' '));
  } catch {
    throw new MandateError(malformed, 'percent-encoded bytes are not UTF-8');
  }
}
