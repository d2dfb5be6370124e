import { clip } from '../../core/clip.ts';
import { MandateError } from '../../core/errors.ts';

/** Nesting deeper than this is refused before anything walks the value. */
export const MAX_JSON_DEPTH = 32;

/** Member names that would reach an object's prototype when merged or copied. */
const POISONED = new Set(['__proto__', 'constructor']);

const malformed = (message: string) => new MandateError('ERR_REQUEST_MALFORMED_BODY', message);

/**
 * A JSON request body (RFC 8259): top level an object, member names unique in every object
 * (§4 leaves duplicates undefined and `JSON.parse` silently keeps the last one, so a scanner
 * finds them), no prototype-poisoning names, bounded depth.
 */
export function parseStrictJson(text: string): Record<string, unknown> {
  if (text.trim() === '') throw malformed('the JSON body is empty');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw malformed('the body is not valid JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw malformed('the JSON body must be an object');
  scanMemberNames(text);
  return value as Record<string, unknown>;
}

/** Walks text already accepted by `JSON.parse`, tracking which strings are member names. */
function scanMemberNames(text: string): void {
  const stack: Array<Set<string> | null> = [];
  let expectName = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      const end = endOfString(text, i);
      const members = stack[stack.length - 1];
      if (members && expectName) checkName(members, JSON.parse(text.slice(i, end + 1)) as string);
      expectName = false;
      i = end;
    } else if (c === '{' || c === '[') {
      stack.push(c === '{' ? new Set() : null);
      if (stack.length > MAX_JSON_DEPTH) throw malformed(`the JSON body nests deeper than ${MAX_JSON_DEPTH} levels`);
      expectName = c === '{';
    } else if (c === '}' || c === ']') {
      stack.pop();
    } else if (c === ',') {
      expectName = stack[stack.length - 1] instanceof Set;
    }
  }
}

function endOfString(text: string, start: number): number {
  for (let i = start + 1; i < text.length; i++) {
    if (text[i] === '\\') i++;
    else if (text[i] === '"') return i;
  }
  return text.length;
}

function checkName(members: Set<string>, name: string): void {
  if (POISONED.has(name)) throw malformed(`member name ${name} is not allowed`);
  const shown = clip(name);
  if (members.has(name))
    throw new MandateError('ERR_REQUEST_DUPLICATE_PARAMETER', `member ${shown} appears more than once in one object`, { parameter: shown });
  members.add(name);
}
