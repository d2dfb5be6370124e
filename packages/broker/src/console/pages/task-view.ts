import type { Mandate } from '../../core/mandate.ts';
import type { AttestationRecord } from '../../ports/attestations.ts';
import { card, definitionList, mono, statusPill, table, time } from '../components.ts';
import { html, type Html } from '../html.ts';
import type { ConsoleRequest } from '../route.ts';

const MAX_CLAIMS = 8;

/** Names of humans by id (unknown ids shown as ids). */
async function names(req: ConsoleRequest, ids: readonly string[]): Promise<string> {
  const humans = await Promise.all(ids.map(async (id) => (await req.deps.store.humans.get(id))?.name ?? id));
  return humans.join(', ');
}

function attestationCard(record: AttestationRecord | null): Html {
  if (!record) return card({ title: 'What the agent attested as', body: html`<p class="muted">No attestation on record.</p>` });
  const rows = record.results.map((r) => [
    r.attestor,
    statusPill(r.status),
    r.status === 'rejected' ? html`<span class="muted">${r.message}</span>` : html`${Object.entries(r.claims).slice(0, MAX_CLAIMS).map(([k, v]) => html`<div><span class="muted">${k}</span> ${mono(Array.isArray(v) ? v.join(', ') : String(v))}</div>`)}`,
  ]);
  return card({
    title: 'What the agent attested as',
    body: html`${definitionList([['Verdict', statusPill(record.verdict)], ['Policy', record.policy], ['Attested', time(record.createdAt)], ['Fresh until', time(record.expiresAt)], ['Evidence digest', html`<span class="kv-digest">${mono(record.evidenceDigest)}</span>`]])}
${table({ caption: 'Per attestor', columns: ['Attestor', 'Status', 'Key claims'], rows })}`,
  });
}

/**
 * Everything the approver decides on (PROTOCOL §4): the agent and its owners, its attestation, and
 * the task exactly as hashed into `task_s256`. The binding message is the agent's text: escaped,
 * and labelled as such.
 */
export async function taskView(req: ConsoleRequest, mandate: Mandate): Promise<Html> {
  const agent = await req.deps.store.agents.get(mandate.agentId);
  const attestation = await req.deps.store.attestations.get(mandate.attestationId);
  const { task } = mandate;
  const details = definitionList([
    ['Agent', html`${agent?.name ?? mandate.agentId} ${mono(mandate.agentId)}`],
    ['Owners', agent ? await names(req, agent.owners) : null],
    ['Purpose', task.purpose],
    ['Audience', mono(task.locations[0])],
    ['Actions', task.actions.join(', ')],
    ['Datatypes', task.datatypes?.length ? task.datatypes.join(', ') : null],
    ['Identifier', task.identifier ?? null],
    ['Not after', time(task.constraints.notAfter * 1000)],
    ['Max uses', task.constraints.maxUses === undefined ? 'no limit' : String(task.constraints.maxUses)],
    ['Binding message', mandate.bindingMessage === null ? null : html`<q class="binding-message">${mandate.bindingMessage}</q> <span class="muted">(text from the agent: check it matches what the agent shows you)</span>`],
    ['Request expires', time(mandate.requestExpiresAt)],
    ['Task digest (task_s256)', html`<span class="kv-digest">${mono(mandate.taskS256)}</span>`],
  ]);
  return html`${card({ title: 'The task', body: details })}${attestationCard(attestation)}`;
}
