/**
 * The human's side, through the broker's admin API with the approver's own admin token (the
 * passkey approval page does the same for a person at a browser).
 */

/** One admin API call; throws on anything but 2xx, with the broker's error text. */
async function adminCall(issuer: string, adminToken: string, method: 'GET' | 'POST', path: string, body?: unknown): Promise<Record<string, unknown>> {
  const response = await fetch(`${issuer}${path}`, {
    method,
    headers: { authorization: `Bearer ${adminToken}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`admin API ${method} ${path}: ${response.status} ${text}`);
  return text ? (JSON.parse(text) as Record<string, unknown>) : {};
}

/** Approves the newest pending mandate of `agentId` and returns its id. */
export async function approvePending(issuer: string, adminToken: string, agentId: string): Promise<string> {
  const listed = await adminCall(issuer, adminToken, 'GET', `/admin/v1/mandates?status=pending&agent=${encodeURIComponent(agentId)}&limit=1`);
  const [newest] = listed.mandates as Array<{ id: string }>;
  if (!newest) throw new Error(`no pending mandate for ${agentId}`);
  await adminCall(issuer, adminToken, 'POST', `/admin/v1/mandates/${newest.id}/approve`);
  return newest.id;
}

/** Revokes a mandate: its grant and every token minted from it stop working. */
export async function revokeMandate(issuer: string, adminToken: string, mandateId: string, reason: string): Promise<void> {
  await adminCall(issuer, adminToken, 'POST', `/admin/v1/mandates/${mandateId}/revoke`, { reason });
}
