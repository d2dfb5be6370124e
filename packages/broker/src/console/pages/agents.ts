import { effectiveStatus, LIVE_STATUSES, type Mandate } from '../../core/mandate.ts';
import type { Agent } from '../../core/model.ts';
import type { AttestationRecord, StoredAttestorOutcome } from '../../ports/attestations.ts';
import { card, confirmLink, confirmPage, definitionList, emptyState, mono, pageHeader, statusPill, table, time } from '../components.ts';
import { html, type Html } from '../html.ts';
import { definePage, type ConsoleRequest } from '../route.ts';
import { actionOf, can, consolePage, humanLabel, isResponsible, requireResponsible } from './frame.ts';

const ACTIVE_MANDATE_LIMIT = 200;

async function listAgents(req: ConsoleRequest) {
  const agents = await req.deps.directory.listAgents();
  const rows = await Promise.all(agents.map(async (agent) => [
    html`<a href="/console/agents/${agent.id}">${agent.name}</a><span class="cell-sub">${agent.id}</span>`,
    statusPill(agent.status),
    html`${await Promise.all(agent.owners.map(async (id) => html`<div>${await humanLabel(req, id)}</div>`))}`,
    mono(agent.policy),
    time(agent.lastSeenAt),
  ]));
  const body = html`${pageHeader({ title: 'Agents', subtitle: `${agents.length} registered. Each agent authenticates with its own key and answers to its owners.` })}
${table({ caption: 'Registered agents', columns: ['Agent', 'Status', 'Owners', 'Attestation policy', 'Last seen'], rows, empty: emptyState('No agents registered yet', html`Register one with <code>mandate agent add</code> or the admin API.`) })}`;
  return consolePage(req, { title: 'Agents', active: 'agents', body });
}

async function showAgent(req: ConsoleRequest) {
  const agent = await req.deps.directory.getAgent(req.params['id']!);
  const [attestations, mandates] = await Promise.all([
    req.deps.store.attestations.listByAgent(agent.id, 1),
    req.deps.loop.decisions.list({ agentId: agent.id }, ACTIVE_MANDATE_LIMIT),
  ]);
  const live = mandates.filter((m) => LIVE_STATUSES.includes(m.status));
  const suspendable = agent.status === 'active' && can(req, 'agents:write') && isResponsible(req, agent);
  const body = html`${pageHeader({
    title: agent.name, back: { href: '/console/agents', label: 'Agents' },
    subtitle: html`${statusPill(agent.status)} <span class="muted">${agent.id} · ${agent.kind.replace('_', ' ')}</span>`,
    actions: suspendable ? confirmLink({ href: `/console/agents/${agent.id}/suspend`, label: 'Suspend agent' }) : undefined,
  })}
<div class="grid-2 section-gap">
${card({ title: 'Identity', id: 'identity', body: definitionList([
  ['Agent id', mono(agent.id)], ['Kind', agent.kind.replace('_', ' ')], ['Attestation policy', mono(agent.policy)],
  ['Key thumbprint', mono(agent.jwkThumbprint)], ['Registered', time(agent.createdAt)], ['Last seen', time(agent.lastSeenAt)],
  ['Review due', time(agent.reviewDueAt)],
]) })}
${card({ title: 'People', id: 'people', body: definitionList([
  ['Owners', html`${await Promise.all(agent.owners.map(async (id) => html`<div>${await humanLabel(req, id)}</div>`))}`],
  ['Approvers', html`${await Promise.all(agent.approvers.map(async (id) => html`<div>${await humanLabel(req, id)}</div>`))}`],
]) })}
</div>
${card({ title: 'Last attestation', id: 'attestation', body: attestationBody(attestations[0] ?? null) })}
${card({ title: 'Active mandates', id: 'mandates', body: mandateTable(live, req.deps.clock.now()) })}`;
  return consolePage(req, { title: agent.name, active: 'agents', body });
}

function attestationBody(record: AttestationRecord | null): Html {
  if (!record) return emptyState('No attestation yet', 'The agent has not presented evidence to /attest.');
  return html`${definitionList([
    ['Verdict', statusPill(record.verdict)], ['Attested', time(record.createdAt)], ['Fresh until', time(record.expiresAt)],
    ['Policy', mono(record.policy)], ['Evidence digest', mono(record.evidenceDigest)], ['Result id', mono(record.id)],
  ])}
${table({ caption: 'Per-attestor results', columns: ['Attestor', 'Status', 'Evidence digest', 'Detail'], rows: record.results.map(attestorRow) })}`;
}

function attestorRow(outcome: StoredAttestorOutcome): Html[] {
  const detail = outcome.status === 'rejected' && 'reason' in outcome
    ? html`<code class="mono">${outcome.reason}</code> ${outcome.message}`
    : html`${Object.entries(outcome.claims).slice(0, 4).map(([k, v]) => html`<span class="cell-sub">${k}: ${clipped(JSON.stringify(v))}</span>`)}`;
  return [mono(outcome.attestor), statusPill(outcome.status), mono(outcome.evidenceDigest), detail];
}

function clipped(text: string): string {
  return text.length > 60 ? `${text.slice(0, 57)}…` : text;
}

function mandateTable(mandates: readonly Mandate[], now: number): Html {
  const rows = mandates.map((m) => [
    html`<a href="/console/mandates/${m.id}">${m.task.purpose}</a><span class="cell-sub">${m.id}</span>`,
    statusPill(effectiveStatus(m, now)), mono(m.task.locations[0]), m.task.actions.join(', '), time(m.task.constraints.notAfter * 1000),
  ]);
  return table({ caption: 'Active mandates', columns: ['Task', 'Status', 'Audience', 'Actions', 'Expires'], rows, empty: emptyState('No active mandates') });
}

async function confirmSuspend(req: ConsoleRequest) {
  const agent = await suspendableAgent(req);
  const body = confirmPage({
    title: `Suspend ${agent.name}?`, csrf: req.session.csrf, action: `/console/agents/${agent.id}/suspend`, confirmLabel: 'Suspend agent',
    cancelHref: `/console/agents/${agent.id}`,
    question: 'The agent can no longer authenticate. Its live mandates are suspended and every token it holds is revoked at once.',
    details: definitionList([['Agent', html`${agent.name} <span class="cell-sub">${agent.id}</span>`], ['Owners', agent.owners.join(', ')]]),
  });
  return consolePage(req, { title: `Suspend ${agent.name}`, active: 'agents', body });
}

async function suspend(req: ConsoleRequest) {
  const agent = await suspendableAgent(req);
  await req.deps.directory.suspendAgent(agent.id, actionOf(req));
  return { redirect: `/console/agents/${agent.id}?done=suspended` };
}

async function suspendableAgent(req: ConsoleRequest): Promise<Agent> {
  const agent = await req.deps.directory.getAgent(req.params['id']!);
  requireResponsible(req, agent);
  return agent;
}

export const agentPages = [
  definePage({ method: 'GET', path: '/console/agents', right: 'agents:read', handle: listAgents }),
  definePage({ method: 'GET', path: '/console/agents/:id', right: 'agents:read', handle: showAgent }),
  definePage({ method: 'GET', path: '/console/agents/:id/suspend', right: 'agents:write', handle: confirmSuspend }),
  definePage({ method: 'POST', path: '/console/agents/:id/suspend', right: 'agents:write', handle: suspend }),
];
