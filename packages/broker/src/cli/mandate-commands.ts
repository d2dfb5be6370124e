import type { Command } from 'commander';
import { UsageError } from './admin-client.ts';
import { adminAction, leaf, printable, printRecord, printTable, type ActionApi, type Io } from './cli-output.ts';

type Wire = Record<string, unknown>;

const LIST_COLUMNS = ['id', 'status', 'agent', 'approver', 'audience', 'actions', 'not_after', 'created_at'];
const CREDENTIAL_COLUMNS = ['jti', 'audience', 'issued_at', 'expires_at', 'revoked_at'];
const AUDIT_COLUMNS = ['time', 'type', 'actor', 'approver', 'jti', 'evidence_digest'];
const segment = (id: string) => encodeURIComponent(id);

/**
 * Mandates are the top-level noun (DESIGN: Surfaces): `mandate list|show|approve|deny|revoke`,
 * clients of the admin API. Approving with an admin token is recorded as `method: admin_token`.
 */
export function registerMandateCommands(program: Command): void {
  leaf(program, 'list', 'List mandates, newest first')
    .option('--status <status>', 'pending | approved | denied | active | expired | exhausted | revoked | suspended')
    .option('--agent <agt_id>', 'only this agent\'s mandates')
    .option('--approver <usr_id>', 'only mandates this human decides')
    .option('--limit <n>', 'at most n mandates (1-500)', '100')
    .action(adminAction(listMandates));
  leaf(program, 'show <id>', 'Show a mandate: task, status, approval, credentials, audit trail and the mandates delegated below it').action(adminAction(showMandate));
  leaf(program, 'approve <id>', 'Approve a pending mandate (only its named approver, with their own admin token)')
    .action(adminAction(async (api) => decide(api, 'approve')));
  leaf(program, 'deny <id>', 'Deny a pending mandate (only its named approver)').action(adminAction(async (api) => decide(api, 'deny')));
  leaf(program, 'revoke <id>', 'Revoke a mandate, every mandate delegated below it, and every token minted under them')
    .requiredOption('--reason <text>', 'why (recorded in the audit log)')
    .action(adminAction(async (api) => decide(api, 'revoke', { reason: api.options.reason as string })));
}

async function listMandates({ client, io, json, options }: ActionApi): Promise<void> {
  const limit = options.limit as string;
  if (!/^\d{1,3}$/.test(limit) || Number(limit) < 1 || Number(limit) > 500) throw new UsageError(`--limit expects a whole number from 1 to 500, got "${limit}"`);
  const query = new URLSearchParams({ limit });
  for (const name of ['status', 'agent', 'approver'] as const) if (options[name]) query.set(name, options[name] as string);
  const mandates = (await client.get(`/admin/v1/mandates?${query}`)).mandates as Wire[];
  if (json) return printTable(io, mandates, [], true);
  printTable(io, mandates.map(listRow), LIST_COLUMNS, false);
}

async function showMandate({ client, io, json, args }: ActionApi): Promise<void> {
  const mandate = await client.get(`/admin/v1/mandates/${segment(args[0]!)}`);
  if (json) return printRecord(io, mandate, true);
  printRecord(io, summaryOf(mandate), false);
  const credentials = (mandate.credentials as Wire[] | undefined) ?? [];
  io.out(`\ncredentials (${credentials.length}):\n`);
  printTable(io, credentials, CREDENTIAL_COLUMNS, false);
  const events = (mandate.audit as Wire[] | undefined) ?? [];
  io.out(`\naudit trail (${events.length} events):\n`);
  printAuditTrail(io, events);
  const children = (mandate.children as Wire[] | undefined) ?? [];
  if (children.length > 0 || mandate.parent_mandate_id) {
    io.out(`\ndelegation tree (${countNodes(children)} below):\n`);
    printDelegationTree(io, mandate, children);
  }
}

function countNodes(nodes: Wire[]): number {
  return nodes.reduce((sum, node) => sum + 1 + countNodes((node.children as Wire[] | undefined) ?? []), 0);
}

/**
 * PROTOCOL §10: the shown mandate, then each mandate delegated below it, one line each with its
 * agent, status, actions and the digest of the evidence its agent presented.
 *
 * @example
 * printDelegationTree(io, shown, shown.children as Wire[]);
 * // mdt_A  agt_parent  active  read,write  (this mandate)
 * // └─ mdt_B  agt_child  active  read  evidence=0f3c…
 */
export function printDelegationTree(io: Io, root: Wire, children: Wire[]): void {
  const text = (value: unknown) => (typeof value === 'string' ? printable(value) : String(value));
  const actions = (node: Wire) => ((node.actions ?? taskOf(node).actions) as string[] | undefined)?.map(text).join(',') ?? '-';
  const above = root.parent_mandate_id ? `  (delegated from ${text(root.parent_mandate_id)})` : '  (this mandate)';
  io.out(`${text(root.id)}  ${text(root.agent_id)}  ${text(root.status)}  ${actions(root)}${above}\n`);
  const walk = (nodes: Wire[], indent: string) => nodes.forEach((node, i) => {
    const last = i === nodes.length - 1;
    const uses = node.max_uses === null || node.max_uses === undefined ? '' : `  max_uses=${text(node.max_uses)}`;
    io.out(`${indent}${last ? '└─' : '├─'} ${text(node.id)}  ${text(node.agent_id)}  ${text(node.status)}  ${actions(node)}${uses}  evidence=${text(node.attestation_digest)}\n`);
    walk((node.children as Wire[] | undefined) ?? [], `${indent}${last ? '   ' : '│  '}`);
  });
  walk(children, '');
}

async function decide({ client, io, json, args }: ActionApi, verb: 'approve' | 'deny' | 'revoke', body?: Wire): Promise<void> {
  const mandate = await client.post(`/admin/v1/mandates/${segment(args[0]!)}/${verb}`, body);
  printRecord(io, json ? mandate : summaryOf(mandate), json);
}

function taskOf(mandate: Wire): Wire {
  return ((mandate.authorization_details as Wire[] | undefined) ?? [])[0] ?? {};
}

function listRow(mandate: Wire): Wire {
  const task = taskOf(mandate);
  return {
    id: mandate.id, status: mandate.status, agent: mandate.agent_id, approver: mandate.approver_id,
    audience: (task.locations as string[] | undefined)?.[0], actions: task.actions,
    not_after: notAfterOf(task), created_at: mandate.created_at,
  };
}

/** The task and decision as `key: value` lines; agent-written text (purpose, binding message) made printable. */
export function summaryOf(mandate: Wire): Wire {
  const task = taskOf(mandate);
  const constraints = (task.constraints as Wire | undefined) ?? {};
  const approval = mandate.approval as Wire | null;
  const text = (value: unknown) => (typeof value === 'string' ? printable(value) : value);
  return {
    id: mandate.id,
    status: mandate.status,
    agent: mandate.agent_id,
    approver: mandate.approver_id,
    purpose: text(task.purpose),
    audience: (task.locations as string[] | undefined)?.[0],
    actions: task.actions,
    ...(task.datatypes ? { datatypes: task.datatypes } : {}),
    ...(task.identifier !== undefined ? { identifier: text(task.identifier) } : {}),
    not_after: notAfterOf(task),
    ...(constraints.maxUses !== undefined ? { max_uses: constraints.maxUses } : {}),
    binding_message: text(mandate.binding_message),
    task_s256: mandate.task_s256,
    attestation: mandate.attestation_id,
    evidence_digest: mandate.attestation_digest,
    dpop_jkt: mandate.dpop_jkt,
    requested_at: mandate.created_at,
    request_expires_at: mandate.request_expires_at,
    approval: approval ? `${String(approval.approved_by)} at ${String(approval.approved_at)} (${String(approval.method)})` : null,
    ended_at: mandate.ended_at,
    end_reason: text(mandate.end_reason),
    // Only a sub-grant's mandate says where it came from (PROTOCOL §10).
    ...(mandate.parent_mandate_id ? { parent_mandate: mandate.parent_mandate_id, depth: mandate.depth, delegated_by: mandate.delegated_by } : {}),
  };
}

/** One line per audit event: time, type, actor, approver, credential jti, evidence digest (`short`: its first 16 digits). */
export function printAuditTrail(io: Io, events: Wire[], options: { short?: boolean } = {}): void {
  const text = (value: unknown) => (typeof value === 'string' ? printable(value) : value);
  const rows = events.map((event) => {
    const digest = text(event.evidence_digest);
    return {
      ...Object.fromEntries(AUDIT_COLUMNS.map((c) => [c, text(event[c])])),
      time: typeof event.time === 'number' ? new Date(event.time).toISOString() : text(event.time),
      evidence_digest: options.short && typeof digest === 'string' && digest.length > 16 ? `${digest.slice(0, 16)}…` : digest,
    };
  });
  printTable(io, rows, AUDIT_COLUMNS, false);
}

function notAfterOf(task: Wire): string | undefined {
  const notAfter = (task.constraints as Wire | undefined)?.notAfter;
  return typeof notAfter === 'number' ? new Date(notAfter * 1000).toISOString() : undefined;
}
