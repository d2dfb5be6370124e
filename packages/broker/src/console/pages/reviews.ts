import { MandateError } from '../../core/errors.ts';
import { hasRight } from '../../core/model.ts';
import type { Mandate } from '../../core/mandate.ts';
import type { MandateReview } from '../../ports/reviews.ts';
import { confirmPage, emptyState, mono, pageHeader, postForm, table, time } from '../components.ts';
import { html, type Html } from '../html.ts';
import { renderPage } from '../layout.ts';
import { definePage, type ConsoleRequest } from '../route.ts';
import { actionOf } from './frame.ts';

/** Fixed outcome texts after POST-redirect-GET (nothing from the request is reflected). */
const NOTICES: Record<string, string> = {
  kept: 'Kept. The next review is due one review period from now.',
  revoked: 'Revoked, with every mandate delegated below it and every token minted under them.',
};

async function page(req: ConsoleRequest, title: string, body: Html): Promise<{ html: string }> {
  const { human, csrf } = req.session;
  const notice = NOTICES[req.query['done'] ?? ''];
  const badge = await req.deps.notifications.unreadCount(human.id);
  return { html: renderPage({ title, active: 'reviews', human: { id: human.id, name: human.name }, csrf, badge, body, ...(notice ? { flash: { kind: 'ok' as const, text: notice } } : {}) }) };
}

function stateOf(review: MandateReview, now: number, grace: number): Html {
  if (now >= review.dueAt + grace) return html`<span class="pill danger">overdue</span>`;
  return now >= review.dueAt ? html`<span class="pill warn">due</span>` : html`<span class="pill neutral">upcoming</span>`;
}

async function row(req: ConsoleRequest, review: MandateReview): Promise<Html[]> {
  const [mandate, agent] = await Promise.all([req.deps.store.mandates.get(review.mandateId), req.deps.store.agents.get(review.agentId)]);
  const now = req.deps.clock.now();
  const csrf = req.session.csrf;
  const actions = html`<div class="row">${postForm({ action: `/console/reviews/${review.mandateId}`, csrf, label: 'Keep', variant: 'primary', fields: { decision: 'keep' } })}
<a class="btn btn-danger" href="/console/reviews/${review.mandateId}/revoke">Revoke</a></div>`;
  return [
    html`<a href="/console/mandates/${review.mandateId}">${mono(review.mandateId)}</a><span class="cell-sub">${mandate?.task.purpose ?? ''}</span>`,
    html`${agent?.name ?? review.agentId}`, time(review.dueAt), stateOf(review, now, req.deps.config.reviews.gracePeriod),
    review.decision ? html`${review.decision} by ${mono(review.reviewedBy)} ${time(review.reviewedAt)}` : html`<span class="muted">never</span>`,
    actions,
  ];
}

/** The check the POST makes (services/reviews.ts): the page shows a mandate only to an owner of its agent or an admin. */
async function requireReviewer(req: ConsoleRequest, mandate: Mandate): Promise<void> {
  if (hasRight(req.session.rights, 'admin')) return;
  const agent = await req.deps.store.agents.get(mandate.agentId);
  if (!agent?.owners.includes(req.session.human.id))
    throw new MandateError('ERR_REVIEW_NOT_OWNER', 'only an owner of the mandate\'s agent (or an admin) may review it');
}

function decisionOf(req: ConsoleRequest): 'keep' | 'revoke' {
  const decision = req.form['decision'];
  if (decision !== 'keep' && decision !== 'revoke') throw new MandateError('ERR_REQUEST_INVALID_PARAMETER', 'decision: keep or revoke', { parameter: 'decision' });
  return decision;
}

/**
 * Access reviews in the console (docs/reviews.md): owners see their agents' active mandates, soonest
 * due first (admins see all), and keep or revoke each; revoking asks for confirmation first.
 */
export const reviewPages = [
  definePage({
    method: 'GET', path: '/console/reviews', right: 'mandates:review',
    async handle(req) {
      const all = hasRight(req.session.rights, 'admin');
      const reviews = await req.deps.reviews.list({ all, dueOnly: false, limit: 200 }, actionOf(req));
      const rows = await Promise.all(reviews.map((r) => row(req, r)));
      const subtitle = req.deps.reviews.enabled
        ? `Certify each active mandate ${all ? '' : 'of your agents '}once per review period; unreviewed mandates are suspended after the grace period.`
        : 'Access reviews are off in this broker (reviews.reviewEvery).';
      const body = html`${pageHeader({ title: 'Access reviews', subtitle })}
${table({ caption: 'Mandates to review', columns: ['Mandate', 'Agent', 'Due', 'State', 'Last review', 'Decision'], rows, empty: emptyState('Nothing to review', 'Active mandates of your agents appear here.') })}`;
      return page(req, 'Access reviews', body);
    },
  }),
  definePage({
    method: 'GET', path: '/console/reviews/:id/revoke', right: 'mandates:review',
    async handle(req) {
      const mandate = await req.deps.loop.decisions.get(req.params['id'] ?? '');
      await requireReviewer(req, mandate);
      const body = confirmPage({
        title: 'Revoke this mandate?', question: html`${mandate.task.purpose} — ${mono(mandate.task.locations[0])}`,
        details: html`<p>The mandate, every mandate delegated below it and every token minted under them end now. The review is recorded in the audit log.</p>`,
        action: `/console/reviews/${mandate.id}`, csrf: req.session.csrf, confirmLabel: 'Revoke', cancelHref: '/console/reviews', fields: { decision: 'revoke' },
      });
      return page(req, 'Revoke mandate', body);
    },
  }),
  definePage({
    method: 'POST', path: '/console/reviews/:id', right: 'mandates:review',
    async handle(req) {
      const decision = decisionOf(req);
      await req.deps.reviews.review(req.params['id'] ?? '', decision, null, actionOf(req));
      return { redirect: `/console/reviews?done=${decision === 'keep' ? 'kept' : 'revoked'}` };
    },
  }),
];
