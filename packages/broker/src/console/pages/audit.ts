import type { AuditEventType, AuditRecord } from '../../core/audit-chain.ts';
import { MandateError } from '../../core/errors.ts';
import type { AuditFilter } from '../../ports/audit-sink.ts';
import { queryAudit } from '../../services/audit-query.ts';
import { emptyState, mono, pageHeader, table, time } from '../components.ts';
import { html, type Html } from '../html.ts';
import { definePage, type ConsoleRequest } from '../route.ts';
import { consolePage } from './frame.ts';

const PAGE_SIZE = 50;
const AGENT_MANDATES = 500;
/** Suggestions for the type filter; any `noun.past_tense` is accepted. */
const KNOWN_TYPES = [
  'agent.registered', 'agent.suspended', 'agent.retired', 'attestation.verified', 'attestation.rejected', 'human.added',
  'mandate.requested', 'mandate.approved', 'mandate.denied', 'mandate.revoked', 'mandate.suspended', 'mandate.delegated',
  'token.issued', 'token.revoked', 'key.rotated', 'admin_token.created',
];
const TEXT_FILTERS = ['agent', 'mandate', 'human'] as const;

/** The audit table used here and on the mandate page: time (and chain position), event, who, what. */
export function auditTable(events: readonly AuditRecord[], caption: string, withMandate = true): Html {
  const rows = events.map((e) => [
    html`${time(e.time)}<span class="cell-sub">${e.chain} #${e.seq}</span>`, html`<span class="event-type">${e.type}</span>`,
    html`${e.actor ? mono(e.actor) : html`<span class="muted">system</span>`}${withMandate && e.mandateId ? html`<span class="cell-sub"><a class="mono-link" href="/console/mandates/${e.mandateId}">${e.mandateId}</a></span>` : ''}`,
    details(e),
  ]);
  return table({ caption, columns: ['Time', 'Event', withMandate ? 'Actor · mandate' : 'Actor', 'Details'], rows, empty: emptyState('No audit events match') });
}

function details(e: AuditRecord): Html {
  const facts: [string, unknown][] = [
    ...(e.approver && e.approver !== e.actor ? [['approver', e.approver] as [string, unknown]] : []),
    ...(e.jti ? [['jti', e.jti] as [string, unknown]] : []),
    ...Object.entries(e.data ?? {}).filter(([, v]) => v !== null && typeof v !== 'object').slice(0, 4),
  ];
  return html`<div class="facts">${facts.map(([k, v]) => html`<span class="fact"><span class="fact-key">${k}</span> ${clip(String(v))}</span>`)}</div>`;
}

/** Long values (nonces, digests) are cut in the table; the mandate's API view has them whole. */
function clip(text: string): string {
  return text.length > 48 ? `${text.slice(0, 45)}…` : text;
}

/** `datetime-local` values, read as UTC (the page says so). */
function parseTime(name: string, value: string | undefined): number | undefined {
  if (!value) return undefined;
  const ms = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?$/.test(value) ? Date.parse(`${value}Z`) : NaN;
  if (Number.isNaN(ms)) throw new MandateError('ERR_REQUEST_INVALID_PARAMETER', `${name}: expected YYYY-MM-DDTHH:MM (UTC)`, { parameter: name });
  return ms;
}

function parseCursor(value: string | undefined): AuditFilter['before'] {
  if (!value) return undefined;
  const match = /^(\d{1,16})~(\d{1,16})~(.{1,128})$/.exec(value);
  if (!match) throw new MandateError('ERR_REQUEST_INVALID_PARAMETER', 'before: not a page cursor', { parameter: 'before' });
  return { time: Number(match[1]), seq: Number(match[2]), chain: match[3]! };
}

async function filterOf(req: ConsoleRequest): Promise<AuditFilter> {
  const q = req.query;
  const type = q['type']?.trim();
  if (type && !/^[a-z_]{1,40}\.[a-z_]{1,40}$/.test(type)) throw new MandateError('ERR_REQUEST_INVALID_PARAMETER', 'type: expected noun.past_tense', { parameter: 'type' });
  const agentId = q['agent']?.trim();
  const mandateIds = agentId ? (await req.deps.loop.decisions.list({ agentId }, AGENT_MANDATES)).map((m) => m.id) : [];
  const [fromTime, toTime, before] = [parseTime('from', q['from']), parseTime('to', q['to']), parseCursor(q['before'])];
  return {
    ...(type ? { type: type as AuditEventType } : {}), ...(q['mandate']?.trim() ? { mandateId: q['mandate'].trim() } : {}),
    ...(q['human']?.trim() ? { human: q['human'].trim() } : {}), ...(agentId ? { agent: { id: agentId, mandateIds } } : {}),
    ...(fromTime !== undefined ? { fromTime } : {}), ...(toTime !== undefined ? { toTime } : {}), ...(before ? { before } : {}),
  };
}

function filterForm(q: Record<string, string | undefined>): Html {
  const text = (name: string, label: string, hint: string) => html`<div class="field"><label for="f-${name}">${label}</label>
<input id="f-${name}" name="${name}" type="text" value="${q[name] ?? ''}" autocomplete="off" aria-describedby="f-${name}-hint"><span class="hint" id="f-${name}-hint">${hint}</span></div>`;
  const when = (name: string, label: string) => html`<div class="field"><label for="f-${name}">${label}</label>
<input id="f-${name}" name="${name}" type="datetime-local" value="${q[name] ?? ''}"></div>`;
  return html`<form method="get" action="/console/audit" class="card filters" aria-label="Audit filters">
<div class="field"><label for="f-type">Event type</label><input id="f-type" name="type" type="text" list="audit-types" value="${q['type'] ?? ''}" autocomplete="off" aria-describedby="f-type-hint">
<datalist id="audit-types">${KNOWN_TYPES.map((t) => html`<option value="${t}"></option>`)}</datalist><span class="hint" id="f-type-hint">e.g. token.revoked</span></div>
${text('agent', 'Agent id', 'agt_… (calls, mandates)')}${text('mandate', 'Mandate id', 'mdt_…')}${text('human', 'Human id', 'usr_… (acted, approved)')}
${when('from', 'From (UTC)')}${when('to', 'To (UTC)')}
<div class="row"><button type="submit" class="btn btn-primary">Apply filters</button><a class="btn btn-secondary" href="/console/audit">Clear</a></div>
</form>`;
}

function nextLink(q: Record<string, string | undefined>, next: NonNullable<AuditFilter['before']>): Html {
  const params = new URLSearchParams();
  for (const name of ['type', ...TEXT_FILTERS, 'from', 'to']) if (q[name]) params.set(name, q[name]!);
  params.set('before', `${next.time}~${next.seq}~${next.chain}`);
  return html`<a class="btn btn-secondary" href="/console/audit?${params.toString()}" rel="next">Older events →</a>`;
}

async function auditPage(req: ConsoleRequest) {
  const q = req.query as Record<string, string | undefined>;
  const page = await queryAudit(req.deps.store.audit, await filterOf(req), PAGE_SIZE);
  const body = html`${pageHeader({ title: 'Audit', subtitle: 'Every decision, hash-chained and signed. Newest first.' })}
${filterForm(q)}
${auditTable(page.events, 'Audit events')}
<div class="pager">${q['before'] ? html`<a class="btn btn-secondary" href="/console/audit">← Newest</a>` : html`<span></span>`}${page.next ? nextLink(q, page.next) : ''}</div>`;
  return consolePage(req, { title: 'Audit', active: 'audit', body });
}

export const auditPages = [definePage({ method: 'GET', path: '/console/audit', right: 'audit:read', handle: auditPage })];
