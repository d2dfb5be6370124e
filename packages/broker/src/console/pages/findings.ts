import type { FindingRecord, FindingStatus } from '../../ports/findings.ts';
import { emptyState, mono, pageHeader, statusPill, table, time } from '../components.ts';
import { html } from '../html.ts';
import { definePage, type ConsoleRequest } from '../route.ts';
import { consolePage } from './frame.ts';

const STATUSES: readonly FindingStatus[] = ['open', 'converted', 'dismissed'];

/**
 * Borrowed human credentials the scanner found (`mandate scan --report`), read-only: converting or
 * dismissing stays with the admin API (`/admin/v1/findings/{id}/convert|dismiss`), where the proposal is reviewed.
 */
async function listFindings(req: ConsoleRequest) {
  const status = STATUSES.find((s) => s === req.query['status']) ?? 'open';
  const findings = await req.deps.findings.list(status);
  const rows = findings.map((f: FindingRecord) => [
    html`<span class="event-type">${f.kind}</span><span class="cell-sub">${f.reason}</span>`, statusPill(f.status),
    html`${mono(f.file)}${f.line > 0 ? html`<span class="cell-sub">line ${f.line}</span>` : ''}`, mono(f.service), f.ownerGuess ?? html`<span class="muted">unknown</span>`, time(f.createdAt),
  ]);
  const filter = html`<form method="get" action="/console/findings" class="row section-gap">
<div class="field"><label for="status">Status</label><select id="status" name="status">${STATUSES.map((s) => html`<option value="${s}"${s === status ? html` selected` : ''}>${s}</option>`)}</select></div>
<button type="submit" class="btn btn-secondary">Filter</button></form>`;
  const body = html`${pageHeader({ title: 'Findings', subtitle: 'Human credentials the scanner found in agent code and environments. Each one should become a mandate.' })}${filter}
${table({ caption: `Findings (${status})`, columns: ['Credential', 'Status', 'Where', 'Service', 'Owner (guess)', 'Found'], rows, empty: emptyState(`No ${status} findings`, html`Run <code>mandate scan --report</code> to look for borrowed credentials.`) })}`;
  return consolePage(req, { title: 'Findings', active: 'findings', body });
}

export const findingPages = [definePage({ method: 'GET', path: '/console/findings', right: 'findings:read', handle: listFindings })];
