/**
 * Mandates (delegations): a human approves one task for one agent. Pure: lifecycle rules, the
 * task document (PROTOCOL §4) and narrowing checks (PROTOCOL §5). Times are epoch milliseconds
 * unless a name says seconds.
 */

export type MandateStatus = 'pending' | 'approved' | 'denied' | 'active' | 'expired' | 'exhausted' | 'revoked' | 'suspended';

export type ApprovalMethod = 'admin_token' | 'passkey';

export interface Approval {
  approvedBy: string;
  approvedAt: number;
  method: ApprovalMethod;
  /** Method-specific proof (the admin token id, or the WebAuthn assertion). */
  proof: Record<string, unknown>;
  /**
   * PROTOCOL §10: on a sub-grant's mandate, the human's approval is carried through and names the
   * agents that passed it on, nearest first (the parent, its parent, … the root mandate's agent).
   * Absent on a mandate the human approved directly.
   */
  delegatedBy?: string[];
}

/** Where a sub-grant's mandate hangs in the delegation tree (PROTOCOL §10). */
export interface MandateHop {
  /** The mandate whose access token was exchanged for the sub-grant. */
  parentId: string;
  /** 1 below a human-approved mandate, 2 below that, … capped by `delegation.maxDepth`. */
  depth: number;
  /** SHA-256 of the one-time sub-grant (base64url); kept after redemption so a reuse is recognised. */
  subGrantHash: string;
}

/** The `agent-task` authorization details object (RFC 9396) as approved. */
export interface AgentTask {
  type: 'agent-task';
  purpose: string;
  locations: [string];
  actions: string[];
  datatypes?: string[];
  identifier?: string;
  constraints: { notAfter: number; maxUses?: number };
}

export interface Mandate {
  id: string;
  agentId: string;
  /** The `login_hint` human: the only one who may approve, and the token's `sub`. */
  approverId: string;
  status: MandateStatus;
  task: AgentTask;
  bindingMessage: string | null;
  taskDocument: string;
  taskS256: string;
  attestationId: string;
  attestationDigest: string;
  /** The DPoP key pinned at `/bc-authorize` (RFC 9449 §10). */
  dpopJkt: string;
  authReqIdHash: string;
  requestExpiresAt: number;
  /** CIBA poll interval in seconds; grows by 5 after each `slow_down`. */
  interval: number;
  lastPolledAt: number | null;
  approval: Approval | null;
  decidedAt: number | null;
  /** SHA-256 of the mandate grant (base64url); null until collected. */
  grantHash: string | null;
  createdAt: number;
  endedAt: number | null;
  endReason: string | null;
  /** Present only on mandates made by a sub-agent hop; a human-approved mandate is a tree's root. */
  hop?: MandateHop;
}

/** Mandates that can still yield tokens, now or after a decision. */
export const LIVE_STATUSES: readonly MandateStatus[] = ['pending', 'approved', 'active', 'suspended'];

/** The `mandate_error` of a token request refused because its mandate is in this status (docs/oauth.md). */
export function inactiveReason(status: MandateStatus): string {
  return INACTIVE_REASON[status] ?? 'mandate_not_active';
}

const INACTIVE_REASON: Partial<Record<MandateStatus, string>> = {
  revoked: 'mandate_revoked',
  exhausted: 'mandate_exhausted',
  expired: 'mandate_expired',
  suspended: 'mandate_suspended',
  denied: 'mandate_denied',
};

/** The status as of `now`: an approved or active mandate past `notAfter` is expired. */
export function effectiveStatus(mandate: Pick<Mandate, 'status' | 'task' | 'requestExpiresAt'>, now: number): MandateStatus {
  if ((mandate.status === 'active' || mandate.status === 'approved' || mandate.status === 'suspended') && now >= mandate.task.constraints.notAfter * 1000) return 'expired';
  // OpenID CIBA §7.3: an `auth_req_id` is collectable until `expires_in`, approved or not.
  if ((mandate.status === 'pending' || mandate.status === 'approved') && now >= mandate.requestExpiresAt) return 'expired';
  return mandate.status;
}

/** PROTOCOL §4: the members of the task document, canonicalized with RFC 8785 by the caller. */
export function taskDocumentContent(input: {
  agentId: string;
  task: AgentTask;
  attestationDigest: string;
  authReqIdHash: string;
}): Record<string, unknown> {
  return {
    agent: input.agentId,
    audience: input.task.locations[0],
    actions: input.task.actions,
    datatypes: input.task.datatypes ?? [],
    identifier: input.task.identifier ?? null,
    constraints: input.task.constraints,
    purpose: input.task.purpose,
    attestation_digest: input.attestationDigest,
    auth_req_id: input.authReqIdHash,
  };
}

/** Mandates whose tokens may still be used or delegated from: an exhausted one mints no more, but its last tokens stay valid. */
export const USABLE_STATUSES: readonly MandateStatus[] = ['active', 'exhausted'];

/** PROTOCOL §5: a requested object may only narrow the approved one. Returns the reason it widens. */
export function widening(approved: AgentTask, requested: AgentTask): string | null {
  if (requested.locations[0] !== approved.locations[0]) return 'audience';
  // The token carries the purpose next to the approval's `task_s256`: it must be the approved one.
  if (requested.purpose !== approved.purpose) return 'purpose';
  if (!requested.actions.every((a) => approved.actions.includes(a))) return 'actions';
  // No datatypes approved means any datatype (as the SDK's requireAction reads it), so naming some narrows.
  if (approved.datatypes?.length && !(requested.datatypes ?? []).every((d) => approved.datatypes!.includes(d))) return 'datatypes';
  if (approved.datatypes?.length && !requested.datatypes?.length) return 'datatypes';
  if (approved.identifier !== undefined && requested.identifier !== approved.identifier) return 'identifier';
  if (requested.constraints.notAfter > approved.constraints.notAfter) return 'notAfter';
  if (approved.constraints.maxUses !== undefined && (requested.constraints.maxUses ?? Infinity) > approved.constraints.maxUses) return 'maxUses';
  return null;
}
