import { JwsError, type JwsFault } from './errors.ts';

// Fatal on malformed UTF-8; a byte-order mark is kept, so JSON.parse refuses it (RFC 8259 §8.1).
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Decodes one segment as RFC 7515 §2 base64url: no padding, no whitespace, no other alphabet, and
 * zero trailing bits. Re-encoding the decoded bytes must give the segment back, which rejects all
 * of these in one comparison. Returns null when the segment is not canonical.
 *
 * @example
 * ```ts
 * decodeBase64urlStrict('e30'); // <Buffer 7b 7d>
 * decodeBase64urlStrict('e30='); // null
 * ```
 */
export function decodeBase64urlStrict(segment: string): Buffer | null {
  const bytes = Buffer.from(segment, 'base64url');
  return bytes.toString('base64url') === segment ? bytes : null;
}

/**
 * Decodes a header or payload segment to a JSON object: canonical base64url, strict UTF-8 (no
 * byte-order mark, RFC 8259 §8.1), an object at the top, and no member name twice at any depth
 * (RFC 7515 §5.2, RFC 7519 §4: rejecting is the safe choice over "last one wins").
 *
 * @example
 * ```ts
 * decodeJsonObject('eyJhbGciOiJFUzI1NiJ9', 'ERR_JWS_HEADER', 'header'); // { alg: 'ES256' }
 * ```
 */
export function decodeJsonObject(segment: string, code: JwsFault, what: string): Record<string, unknown> {
  const bytes = decodeBase64urlStrict(segment);
  if (bytes === null) throw new JwsError(code, `${what} is not canonical base64url`);
  let text: string;
  let value: unknown;
  try {
    text = strictUtf8.decode(bytes);
    value = JSON.parse(text);
  } catch {
    throw new JwsError(code, `${what} is not UTF-8 JSON`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new JwsError(code, `${what} is not a JSON object`);
  if (findDuplicateMember(text) !== undefined) throw new JwsError(code, `${what} has a member name twice`);
  return value as Record<string, unknown>;
}

/**
 * The first member name that appears twice in one object of `text`, which should be valid JSON
 * (the caller parsed it already; on other text the answer means nothing but the scan still ends). A single scan: strings are skipped whole, and a string is a
 * member name when it opens an object or follows a comma inside one.
 *
 * @example
 * ```ts
 * findDuplicateMember('{"a":1,"b":{"a":2},"a":3}'); // 'a'
 * ```
 */
export function findDuplicateMember(text: string): string | undefined {
  const stack: Array<MemberNames | null> = [];
  let expectName = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      const end = closingQuote(text, i);
      const names = stack[stack.length - 1];
      if (expectName && names) {
        const raw = text.slice(i + 1, end);
        // Escapes name the same member in other spellings ("a" = "\u0061"): compare decoded names.
        const name = raw.includes('\\') ? (JSON.parse(text.slice(i, end + 1)) as string) : raw;
        if (names.seen(name)) return name;
        expectName = false;
      }
      i = end;
    } else if (c === 0x7b) {
      stack.push(new MemberNames());
      expectName = true;
    } else if (c === 0x5b) stack.push(null);
    else if (c === 0x7d || c === 0x5d) stack.pop();
    else if (c === 0x2c) expectName = stack[stack.length - 1] != null;
  }
  return undefined;
}

/** The names of one object: a list while short (cheaper than a Set), a Set past 16 so the scan stays linear. */
class MemberNames {
  private list: string[] = [];
  private set: Set<string> | undefined;

  /** Records `name`; true if it was already there. */
  seen(name: string): boolean {
    if (this.set) return this.set.has(name) || !this.set.add(name);
    if (this.list.includes(name)) return true;
    this.list.push(name);
    if (this.list.length > 16) this.set = new Set(this.list);
    return false;
  }
}

/** The index of the quote closing the string opened at `open` (native search; a quote after an odd run of backslashes is escaped). */
function closingQuote(text: string, open: number): number {
  let i = text.indexOf('"', open + 1);
  while (i > 0 && isEscaped(text, i)) i = text.indexOf('"', i + 1);
  return i < 0 ? text.length : i;
}

function isEscaped(text: string, quote: number): boolean {
  let backslashes = 0;
  while (text.charCodeAt(quote - 1 - backslashes) === 0x5c) backslashes++;
  return backslashes % 2 === 1;
}
