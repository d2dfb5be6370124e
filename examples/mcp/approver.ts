/**
 * The human's side, through the broker's admin API with the approver's own admin token (the
 * passkey approval page does the same for a person at a browser).
 */
import { adminCall } from './admin-api.ts';

/** Approves the newest pending mandate of `agentId` and returns its id. */
export async function approvePending(issuer: string, adminToken: string, agentId: string): Promise<string> {
  const listed = await adminCall(issuer, adminToken, 'GET', `/admin/v1/mandates?status=pending&agent=${encodeURIComponent(agentId)}&limit=1`);
  const [newest] = listed.mandates as Array<{ id: string }>;
  if (!newest) throw new Error(`no pending mandate for ${agentId}`);
  await adminCall(issuer, adminToken, 'POST', `/admin/v1/mandates/${newest.id}/approve`);
  return newest.id;
}

/** Revokes a mandate: its grant, every token minted from it and every mandate delegated below it stop working. */
export async function revokeMandate(issuer: string, adminToken: string, mandateId: string, reason: string): Promise<void> {
  await adminCall(issuer, adminToken, 'POST', `/admin/v1/mandates/${mandateId}/revoke`, { reason });
}
