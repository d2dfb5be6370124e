/**
 * One call to the broker's admin API with a person's own admin token, shared by the approver's and
 * the operator's sides of the example.
 */

/**
 * Sends one admin API request; throws on anything but 2xx, with the broker's error text.
 *
 * @example
 * ```ts
 * const { agents } = await adminCall(issuer, adminToken, 'GET', '/admin/v1/agents');
 * ```
 */
export async function adminCall(issuer: string, adminToken: string, method: 'GET' | 'POST', path: string, body?: unknown): Promise<Record<string, unknown>> {
  const response = await fetch(`${issuer}${path}`, {
    method,
    headers: { authorization: `Bearer ${adminToken}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`admin API ${method} ${path}: ${response.status} ${text}`);
  return text ? (JSON.parse(text) as Record<string, unknown>) : {};
}
