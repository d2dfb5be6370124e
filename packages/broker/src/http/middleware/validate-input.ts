import type { z } from 'zod';
import { clip } from '../../core/clip.ts';
import { MandateError } from '../../core/errors.ts';

/**
 * Parses one part of a request (params, query or body) with its schema. The first missing
 * parameter wins over other problems, so a caller fixes the request in a predictable order.
 */
export function validateInput<T extends z.ZodType>(schema: T, input: unknown): z.output<T> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issues = result.error.issues;
  const missing = issues.find((issue) => issue.path.length > 0 && valueAt(input, issue.path) === undefined);
  throw toMandateError(missing ?? issues[0]!, input);
}

function toMandateError(issue: z.core.$ZodIssue, input: unknown): MandateError {
  if (issue.code === 'unrecognized_keys') {
    const parameter = clip(nameOf([...issue.path, issue.keys[0] ?? '']));
    return new MandateError('ERR_REQUEST_INVALID_PARAMETER', `unknown parameter ${parameter}`, { parameter });
  }
  const parameter = clip(nameOf(issue.path));
  if (issue.path.length > 0 && valueAt(input, issue.path) === undefined)
    return new MandateError('ERR_REQUEST_MISSING_PARAMETER', `${parameter} is required`, { parameter });
  if (issue.path.length === 0) return new MandateError('ERR_REQUEST_INVALID_PARAMETER', withoutPrefix(issue.message));
  return new MandateError('ERR_REQUEST_INVALID_PARAMETER', `invalid ${parameter}: ${withoutPrefix(issue.message)}`, { parameter });
}

/** `owners[0]`, `jwk.x`: the wire name of the offending member. */
function nameOf(path: readonly PropertyKey[]): string {
  return path.reduce<string>((name, key) => (typeof key === 'number' ? `${name}[${key}]` : name ? `${name}.${String(key)}` : String(key)), '');
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let node = input;
  for (const key of path) {
    if (typeof node !== 'object' || node === null || !Object.hasOwn(node, key)) return undefined;
    node = (node as Record<PropertyKey, unknown>)[key];
  }
  return node;
}

const withoutPrefix = (message: string) => message.replace(/^Invalid input: /, '');
