import { z } from 'zod';
import { effectiveStatus, type Mandate } from '../../core/mandate.ts';
import { descendantsOf } from '../../services/delegation-tree.ts';
import { defineRoute, respond, type RouteContext } from '../route-spec.ts';
import { actionContext } from './authenticate.ts';
import { auditEventToWire, isoTime } from './wire.ts';

const idParams = z.strictObject({ id: z.string() });
const listQuery = z.strictObject({
  status: z.enum(['pending', 'approved', 'denied', 'active', 'expired', 'exhausted', 'revoked', 'suspended']).optional(),
  agent: z.string().optional(),
  approver: z.string().optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});
const revokeBody = z.strictObject({ reason: z.string().min(1).max(200).regex(/^[^\p{Cc}]+$/u, 'must not contain control characters') });
type ById = RouteContext<{ params: typeof idParams }>;
type List = RouteContext<{ query: typeof listQuery }>;
type Revoke = RouteContext<{ params: typeof idParams; body: typeof revokeBody }>;

const AUDIT_TRAIL_LIMIT = 500;

export function mandateToWire(m: Mandate) {
  return {
    id: m.id, agent_id: m.agentId, approver_id: m.approverId, status: m.status, authorization_details: [m.task],
    binding_message: m.bindingMessage, task_s256: m.taskS256, attestation_id: m.attestationId, attestation_digest: m.attestationDigest,
    dpop_jkt: m.dpopJkt, request_expires_at: isoTime(m.requestExpiresAt),
    approval: m.approval ? { approved_by: m.approval.approvedBy, approved_at: isoTime(m.approval.approvedAt), method: m.approval.method } : null,
    created_at: isoTime(m.createdAt), ended_at: m.endedAt === null ? null : isoTime(m.endedAt), end_reason: m.endReason,
    // PROTOCOL §10: where the mandate hangs in a delegation tree (a human-approved one is a root).
    parent_mandate_id: m.hop?.parentId ?? null, depth: m.hop?.depth ?? 0,
    delegated_by: m.approval?.delegatedBy ?? [],
  };
}

/** One mandate below the shown one: its agent, scope, status and the evidence its agent presented. */
interface TreeNode {
  id: string;
  agent_id: string;
  status: Mandate['status'];
  depth: number;
  audience: string;
  actions: string[];
  not_after: string;
  max_uses: number | null;
  attestation_id: string;
  attestation_digest: string;
  created_at: string;
  end_reason: string | null;
  children: TreeNode[];
}

/** The delegation tree below `root` (PROTOCOL §10), each node with its status as of `now`. */
async function delegationTree(ctx: ById, root: Mandate): Promise<TreeNode[]> {
  const byParent = new Map<string, Mandate[]>();
  for (const m of await descendantsOf(ctx.deps.store, root.id)) byParent.set(m.hop!.parentId, [...(byParent.get(m.hop!.parentId) ?? []), m]);
  const now = ctx.deps.clock.now();
  const nodeOf = (m: Mandate): TreeNode => ({
    id: m.id, agent_id: m.agentId, status: effectiveStatus(m, now), depth: m.hop!.depth, audience: m.task.locations[0], actions: m.task.actions,
    not_after: isoTime(m.task.constraints.notAfter * 1000), max_uses: m.task.constraints.maxUses ?? null,
    attestation_id: m.attestationId, attestation_digest: m.attestationDigest, created_at: isoTime(m.createdAt), end_reason: m.endReason,
    children: (byParent.get(m.id) ?? []).map(nodeOf),
  });
  return (byParent.get(root.id) ?? []).map(nodeOf);
}

async function listMandates(ctx: List): Promise<void> {
  const { status, agent, approver, limit } = ctx.query;
  const mandates = await ctx.deps.loop.decisions.list({ ...(status ? { status } : {}), ...(agent ? { agentId: agent } : {}), ...(approver ? { approverId: approver } : {}) }, limit);
  respond(ctx, 200, { mandates: mandates.map(mandateToWire) });
}

/** The mandate, its task document, credentials, audit trail (who acted, with which evidence) and the mandates delegated below it. */
async function showMandate(ctx: ById): Promise<void> {
  const mandate = await ctx.deps.loop.decisions.get(ctx.params.id);
  const [credentials, events, children] = await Promise.all([
    ctx.deps.store.credentials.listByMandate(mandate.id),
    ctx.deps.store.audit.byMandate(mandate.id, AUDIT_TRAIL_LIMIT),
    delegationTree(ctx, mandate),
  ]);
  respond(ctx, 200, {
    ...mandateToWire(mandate),
    task_document: JSON.parse(mandate.taskDocument) as unknown,
    credentials: credentials.map((c) => ({ jti: c.jti, audience: c.audience, jkt: c.jkt, issued_at: isoTime(c.issuedAt), expires_at: isoTime(c.expiresAt), revoked_at: c.revokedAt === null ? null : isoTime(c.revokedAt) })),
    audit: events.map(auditEventToWire),
    children,
  });
}

/** PROTOCOL §4: an approval with an admin token of the named human is recorded as such. */
async function approveMandate(ctx: ById): Promise<void> {
  const proof = { admin_token_id: ctx.caller!.token.id };
  respond(ctx, 200, mandateToWire(await ctx.deps.loop.decisions.approve(ctx.params.id, { method: 'admin_token', proof }, actionContext(ctx))));
}

async function denyMandate(ctx: ById): Promise<void> {
  respond(ctx, 200, mandateToWire(await ctx.deps.loop.decisions.deny(ctx.params.id, actionContext(ctx))));
}

/** PROTOCOL §10: the mandates delegated below it and their tokens go with it. */
async function revokeMandate(ctx: Revoke): Promise<void> {
  respond(ctx, 200, mandateToWire(await ctx.deps.loop.revocation.revokeTree(ctx.params.id, ctx.body.reason, actionContext(ctx))));
}

export const mandateRoutes = [
  defineRoute({ method: 'GET', path: '/admin/v1/mandates', family: 'admin', body: 'none', right: 'mandates:read', summary: 'List mandates', schema: { query: listQuery }, steps: [listMandates] }),
  defineRoute({ method: 'GET', path: '/admin/v1/mandates/:id', family: 'admin', body: 'none', right: 'mandates:read', summary: 'Show a mandate with its credentials, audit trail and delegation tree', schema: { params: idParams }, steps: [showMandate] }),
  defineRoute({ method: 'POST', path: '/admin/v1/mandates/:id/approve', family: 'admin', body: 'none', right: 'mandates:decide', summary: 'Approve a pending mandate (only its named approver)', schema: { params: idParams }, steps: [approveMandate] }),
  defineRoute({ method: 'POST', path: '/admin/v1/mandates/:id/deny', family: 'admin', body: 'none', right: 'mandates:decide', summary: 'Deny a pending mandate (only its named approver)', schema: { params: idParams }, steps: [denyMandate] }),
  defineRoute({ method: 'POST', path: '/admin/v1/mandates/:id/revoke', family: 'admin', body: 'json', right: 'mandates:revoke', summary: 'Revoke a mandate, every mandate delegated below it, and every token minted under them', schema: { params: idParams, body: revokeBody }, steps: [revokeMandate] }),
];
