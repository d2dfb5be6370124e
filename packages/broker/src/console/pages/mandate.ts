import { MandateError } from '../../core/errors.ts';
import { effectiveStatus, LIVE_STATUSES, type Mandate, type MandateStatus } from '../../core/mandate.ts';
import type { Credential } from '../../ports/mandates.ts';
import { revokeCredentialAsHuman } from '../../services/credential-revocation.ts';
import { descendantsOf } from '../../services/delegation-tree.ts';
import { card, confirmLink, confirmPage, definitionList, emptyState, mono, pageHeader, statusPill, table, time } from '../components.ts';
import { html, type Html } from '../html.ts';
import { definePage, type ConsoleRequest } from '../route.ts';
import { auditTable } from './audit.ts';
import { actionOf, can, consolePage, humanLabel, isResponsible, mayResume, reasonOf, requireResponsible } from './frame.ts';

const STATUSES: readonly MandateStatus[] = ['pending', 'approved', 'denied', 'active', 'expired', 'exhausted', 'revoked', 'suspended'];
const REVOCABLE: readonly MandateStatus[] = [...LIVE_STATUSES, 'exhausted'];
const LIST_LIMIT = 200;
const AUDIT_TRAIL_LIMIT = 500;

async function listMandates(req: ConsoleRequest) {
  const status = STATUSES.find((s) => s === req.query['status']);
  const mandates = await req.deps.loop.decisions.list(status ? { status } : {}, LIST_LIMIT);
  const rows = mandates.map((m) => [
    html`<a href="/console/mandates/${m.id}">${m.task.purpose}</a><span class="cell-sub">${m.id}</span>`,
    statusPill(m.status), html`<a href="/console/agents/${m.agentId}">${m.agentId}</a>`, mono(m.task.locations[0]), m.task.actions.join(', '), time(m.createdAt),
  ]);
  const filter = html`<form method="get" action="/console/mandates" class="row section-gap">
<div class="field"><label for="status">Status</label><select id="status" name="status"><option value="">Any status</option>
${STATUSES.map((s) => html`<option value="${s}"${s === status ? html` selected` : ''}>${s}</option>`)}</select></div>
<button type="submit" class="btn btn-secondary filter-submit">Filter</button></form>`;
  const body = html`${pageHeader({ title: 'Mandates', subtitle: 'Tasks humans approved for agents, newest first.' })}${filter}
${table({ caption: 'Mandates', columns: ['Task', 'Status', 'Agent', 'Audience', 'Actions', 'Requested'], rows, empty: emptyState('No mandates match') })}`;
  return consolePage(req, { title: 'Mandates', active: 'mandates', body });
}

async function showMandate(req: ConsoleRequest) {
  const mandate = await req.deps.loop.decisions.get(req.params['id']!);
  const agent = await req.deps.store.agents.get(mandate.agentId);
  const [credentials, events, below] = await Promise.all([
    req.deps.store.credentials.listByMandate(mandate.id),
    req.deps.store.audit.byMandate(mandate.id, AUDIT_TRAIL_LIMIT),
    descendantsOf(req.deps.store, mandate.id),
  ]);
  const mayRevoke = can(req, 'mandates:revoke') && isResponsible(req, agent, mandate);
  const now = req.deps.clock.now();
  const body = html`${pageHeader({
    title: mandate.task.purpose, back: { href: '/console/mandates', label: 'Mandates' },
    subtitle: html`${statusPill(mandate.status)} <span class="muted">${mandate.id}</span>`,
    actions: html`${mayResume(req, mandate) ? html`<a class="btn btn-primary" href="/console/resume/${mandate.id}">Resume with passkey</a> ` : ''}${
      mayRevoke && REVOCABLE.includes(mandate.status) ? confirmLink({ href: `/console/mandates/${mandate.id}/revoke`, label: 'Revoke mandate' }) : ''}`,
  })}
<div class="grid-2 section-gap">
${card({ title: 'Task', id: 'task', body: taskList(mandate, agent?.name ?? null) })}
${card({ title: 'Approval', id: 'approval', body: await approvalList(req, mandate) })}
</div>
${card({ title: 'Credentials', id: 'credentials', body: credentialTable(credentials, now, mayRevoke) })}
${below.length > 0 ? card({ title: 'Delegated below this mandate', id: 'delegation', body: tree(mandate.id, below, now) }) : ''}
${card({ title: 'Audit trail', id: 'audit', body: auditTable(events, 'Audit trail of this mandate', false) })}`;
  return consolePage(req, { title: `Mandate ${mandate.id}`, active: 'mandates', body });
}

function taskList(m: Mandate, agentName: string | null): Html {
  const { task } = m;
  return definitionList([
    ['Agent', html`<a href="/console/agents/${m.agentId}">${agentName ?? m.agentId}</a><span class="cell-sub">${m.agentId}</span>`],
    ['Audience', mono(task.locations[0])], ['Actions', task.actions.join(', ')], ['Data types', task.datatypes?.join(', ') ?? null],
    ['Expires', time(task.constraints.notAfter * 1000)], ['Max uses', task.constraints.maxUses ?? 'unlimited'],
    ['Binding message', m.bindingMessage], ['Task digest', mono(m.taskS256)],
  ]);
}

async function approvalList(req: ConsoleRequest, m: Mandate): Promise<Html> {
  return definitionList([
    ['Approver', await humanLabel(req, m.approverId)],
    ['Approved', m.approval ? html`${time(m.approval.approvedAt)} <span class="cell-sub">with ${m.approval.method.replace('_', ' ')}</span>` : null],
    ['Delegated by', m.approval?.delegatedBy?.join(' → ') ?? null], ['Requested', time(m.createdAt)],
    ['Attestation', html`${mono(m.attestationId)}<span class="cell-sub">${m.attestationDigest}</span>`],
    ['Ended', m.endedAt === null ? null : html`${time(m.endedAt)} <span class="cell-sub">${m.endReason ?? ''}</span>`],
  ]);
}

function credentialStatus(c: Credential, now: number): string {
  if (c.revokedAt !== null) return 'revoked';
  return c.expiresAt <= now ? 'expired' : 'active';
}

function credentialTable(credentials: readonly Credential[], now: number, mayRevoke: boolean): Html {
  const rows = credentials.map((c) => {
    const status = credentialStatus(c, now);
    const action = mayRevoke && status === 'active' ? html`<a class="btn btn-secondary btn-small" href="/console/credentials/${c.jti}/revoke" aria-label="Revoke credential ${c.jti}">Revoke</a>` : '';
    return [mono(c.jti), statusPill(status), mono(c.audience), time(c.issuedAt), time(c.expiresAt), action];
  });
  return table({ caption: 'Credentials minted under this mandate', columns: ['Token id (jti)', 'Status', 'Audience', 'Issued', 'Expires', ''], rows, empty: emptyState('No credentials minted yet') });
}

/** PROTOCOL §10: the delegation tree below the mandate, as nested lists. */
function tree(rootId: string, below: readonly Mandate[], now: number): Html {
  const children = (id: string): Html => {
    const kids = below.filter((m) => m.hop?.parentId === id);
    if (kids.length === 0) return html``;
    return html`<ul>${kids.map((m) => html`<li><a href="/console/mandates/${m.id}">${m.agentId}</a> ${statusPill(effectiveStatus(m, now))} <span class="muted">${m.task.actions.join(', ')} on ${m.task.locations[0]}</span>${children(m.id)}</li>`)}</ul>`;
  };
  return html`<div class="tree">${children(rootId)}</div>`;
}

async function revocableMandate(req: ConsoleRequest): Promise<Mandate> {
  const mandate = await req.deps.loop.decisions.get(req.params['id']!);
  requireResponsible(req, await req.deps.store.agents.get(mandate.agentId), mandate);
  return mandate;
}

async function confirmRevokeMandate(req: ConsoleRequest) {
  const m = await revocableMandate(req);
  const body = confirmPage({
    title: 'Revoke this mandate?', csrf: req.session.csrf, action: `/console/mandates/${m.id}/revoke`, confirmLabel: 'Revoke mandate', reason: true,
    cancelHref: `/console/mandates/${m.id}`,
    question: 'The agent loses this task at once: every token minted under it and every mandate delegated below it are revoked. This cannot be undone.',
    details: definitionList([['Task', m.task.purpose], ['Agent', m.agentId], ['Audience', mono(m.task.locations[0])], ['Status', statusPill(m.status)]]),
  });
  return consolePage(req, { title: 'Revoke mandate', active: 'mandates', body });
}

async function revokeMandate(req: ConsoleRequest) {
  const m = await revocableMandate(req);
  await req.deps.loop.revocation.revokeTree(m.id, reasonOf(req), actionOf(req));
  return { redirect: `/console/mandates/${m.id}?done=revoked` };
}

async function revocableCredential(req: ConsoleRequest): Promise<{ credential: Credential; mandate: Mandate | null }> {
  const credential = await req.deps.store.credentials.get(req.params['jti']!);
  if (!credential) throw new MandateError('ERR_CREDENTIAL_NOT_FOUND', `no credential ${req.params['jti']}`);
  const mandate = credential.mandateId ? await req.deps.loop.decisions.get(credential.mandateId) : null;
  requireResponsible(req, await req.deps.store.agents.get(credential.agentId), mandate ?? undefined);
  return { credential, mandate };
}

async function confirmRevokeCredential(req: ConsoleRequest) {
  const { credential: c, mandate } = await revocableCredential(req);
  const back = mandate ? `/console/mandates/${mandate.id}` : `/console/agents/${c.agentId}`;
  const body = confirmPage({
    title: 'Revoke this credential?', csrf: req.session.csrf, action: `/console/credentials/${c.jti}/revoke`, confirmLabel: 'Revoke credential', cancelHref: back,
    question: 'This one access token stops working at once. The mandate stays; the agent may mint a new token under it.',
    details: definitionList([['Token id', mono(c.jti)], ['Agent', c.agentId], ['Audience', mono(c.audience)], ['Expires', time(c.expiresAt)]]),
  });
  return consolePage(req, { title: 'Revoke credential', active: 'mandates', body });
}

async function revokeCredential(req: ConsoleRequest) {
  const { credential, mandate } = await revocableCredential(req);
  await revokeCredentialAsHuman(req.deps, credential.jti, actionOf(req));
  return { redirect: `${mandate ? `/console/mandates/${mandate.id}` : `/console/agents/${credential.agentId}`}?done=credential_revoked` };
}

export const mandatePages = [
  definePage({ method: 'GET', path: '/console/mandates', right: 'mandates:read', handle: listMandates }),
  definePage({ method: 'GET', path: '/console/mandates/:id', right: 'mandates:read', handle: showMandate }),
  definePage({ method: 'GET', path: '/console/mandates/:id/revoke', right: 'mandates:revoke', handle: confirmRevokeMandate }),
  definePage({ method: 'POST', path: '/console/mandates/:id/revoke', right: 'mandates:revoke', handle: revokeMandate }),
  definePage({ method: 'GET', path: '/console/credentials/:jti/revoke', right: 'mandates:revoke', handle: confirmRevokeCredential }),
  definePage({ method: 'POST', path: '/console/credentials/:jti/revoke', right: 'mandates:revoke', handle: revokeCredential }),
];
