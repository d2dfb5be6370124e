/**
 * Request headers as node:http gives them, or a WHATWG `Headers` object.
 *
 * @example
 * ```ts
 * await verifier.verifyRequest({ method: 'GET', url: '/x', headers: new Headers(request.headers) });
 * ```
 */
export type HeaderBag = Headers | Record<string, string | string[] | undefined>;

/**
 * Every value received for a header. Node's http module and `Headers.get` join repeated fields
 * with `, `; a compact JWS or token68 never contains a comma, so callers that need exactly one
 * value can treat a comma as a second field.
 */
export function headerValues(headers: HeaderBag, name: string): string[] {
  if (typeof (headers as Headers).get === 'function' && typeof (headers as Headers).has === 'function') {
    const value = (headers as Headers).get(name);
    return value === null ? [] : [value];
  }
  const lower = name.toLowerCase();
  const out: string[] = [];
  for (const [key, value] of Object.entries(headers as Record<string, string | string[] | undefined>)) {
    if (key.toLowerCase() !== lower || value === undefined) continue;
    if (Array.isArray(value)) out.push(...value);
    else out.push(value);
  }
  return out;
}
