import { z } from 'zod';
import { isoTime } from './wire.ts';
import { CREDENTIAL_KINDS } from '../../core/finding.ts';
import { FINDING_STATUSES, type FindingRecord } from '../../ports/findings.ts';
import { defineRoute, respond, type RouteContext } from '../route-spec.ts';
import { actionContext } from './authenticate.ts';

/** Findings per call: one scan report of a large monorepo fits; a runaway client does not. */
export const MAX_FINDINGS_PER_CALL = 500;

const fingerprint = z.string().regex(/^sha256:[A-Za-z0-9_-]{43}$/, 'must be sha256: followed by 43 base64url characters');
const reported = z.strictObject({
  kind: z.enum(CREDENTIAL_KINDS),
  service: z.url({ protocol: /^https?$/ }).max(2048),
  file: z.string().min(1).max(4096),
  line: z.number().int().min(0).max(100_000_000),
  fingerprint,
  owner_guess: z.string().max(320).nullable(),
  reason: z.string().min(1).max(1000),
});
const recordBody = z.strictObject({ findings: z.array(reported).min(1).max(MAX_FINDINGS_PER_CALL) });
const listQuery = z.strictObject({ status: z.enum(FINDING_STATUSES).optional() });
const idParams = z.strictObject({ id: z.string() });
const convertBody = z.strictObject({
  agent_name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'must be 1-64 characters: letters, digits, dot, dash, underscore'),
  owner: z.string().max(64).optional(),
  purpose: z.string().min(1).max(500).optional(),
  actions: z.array(z.string().min(1).max(64)).min(1).max(20).optional(),
});
const dismissBody = z.strictObject({ reason: z.string().trim().min(1).max(1000) });

type ById = RouteContext<{ params: typeof idParams }>;

/** A finding on the wire: snake_case, RFC 3339 times; the proposal as made at conversion. */
export function findingToWire(f: FindingRecord) {
  return {
    id: f.id, status: f.status, kind: f.kind, service: f.service, file: f.file, line: f.line, fingerprint: f.fingerprint,
    owner_guess: f.ownerGuess, reason: f.reason, recorded_at: isoTime(f.createdAt), recorded_by: f.recordedBy,
    decided_at: f.decidedAt === null ? null : isoTime(f.decidedAt), decided_by: f.decidedBy,
    dismiss_reason: f.dismissReason, conversion: f.conversion,
  };
}

async function recordFindings(ctx: RouteContext<{ body: typeof recordBody }>): Promise<void> {
  const inputs = ctx.body.findings.map(({ owner_guess, ...rest }) => ({ ...rest, ownerGuess: owner_guess }));
  const results = await ctx.deps.findings.record(inputs, actionContext(ctx));
  respond(ctx, 200, { findings: results.map((r) => ({ ...findingToWire(r.finding), created: r.created })) });
}

async function listFindings(ctx: RouteContext<{ query: typeof listQuery }>): Promise<void> {
  respond(ctx, 200, { findings: (await ctx.deps.findings.list(ctx.query.status)).map(findingToWire) });
}

async function showFinding(ctx: ById): Promise<void> {
  respond(ctx, 200, findingToWire(await ctx.deps.findings.get(ctx.params.id)));
}

async function convertFinding(ctx: RouteContext<{ params: typeof idParams; body: typeof convertBody }>): Promise<void> {
  const { agent_name, owner, purpose, actions } = ctx.body;
  const input = { agentName: agent_name, ...(owner === undefined ? {} : { owner }), ...(purpose === undefined ? {} : { purpose }), ...(actions === undefined ? {} : { actions }) };
  respond(ctx, 200, findingToWire(await ctx.deps.findings.convert(ctx.params.id, input, actionContext(ctx))));
}

async function dismissFinding(ctx: RouteContext<{ params: typeof idParams; body: typeof dismissBody }>): Promise<void> {
  respond(ctx, 200, findingToWire(await ctx.deps.findings.dismiss(ctx.params.id, ctx.body.reason, actionContext(ctx))));
}

export const findingRoutes = [
  defineRoute({
    method: 'POST', path: '/admin/v1/findings', family: 'admin', body: 'json', right: 'findings:write',
    summary: 'Record scanner findings (deduplicated on fingerprint, file and line)', schema: { body: recordBody }, steps: [recordFindings],
  }),
  defineRoute({
    method: 'GET', path: '/admin/v1/findings', family: 'admin', body: 'none', right: 'findings:read',
    summary: 'List findings, oldest first', schema: { query: listQuery }, steps: [listFindings],
  }),
  defineRoute({
    method: 'GET', path: '/admin/v1/findings/:id', family: 'admin', body: 'none', right: 'findings:read',
    summary: 'Show a finding', schema: { params: idParams }, steps: [showFinding],
  }),
  defineRoute({
    method: 'POST', path: '/admin/v1/findings/:id/convert', family: 'admin', body: 'json', right: 'findings:write',
    summary: 'Convert an open finding into a proposed agent, draft task and remediation checklist', schema: { params: idParams, body: convertBody }, steps: [convertFinding],
  }),
  defineRoute({
    method: 'POST', path: '/admin/v1/findings/:id/dismiss', family: 'admin', body: 'json', right: 'findings:write',
    summary: 'Dismiss an open finding, with a reason', schema: { params: idParams, body: dismissBody }, steps: [dismissFinding],
  }),
];
