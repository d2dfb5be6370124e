import type { AuthenticationResponseJSON } from '@simplewebauthn/server';
import { card, pageHeader, postForm } from '../components.ts';
import { html } from '../html.ts';
import { renderPage } from '../layout.ts';
import { definePage } from '../route.ts';
import { scriptUrl, WEBAUTHN_BUNDLE } from '../scripts.ts';
import { taskView } from './task-view.ts';

interface CeremonyBody {
  nonce?: string;
  response?: AuthenticationResponseJSON;
}

/**
 * One request: everything shown, then Approve (a passkey assertion over this task's digest) or Deny.
 * Only the `login_hint` human gets the page at all (403 for anyone else).
 */
export const approvePages = [
  definePage({
    method: 'GET', path: '/console/approve/:id', right: 'mandates:decide',
    async handle(req) {
      const mandate = await req.console.approval.decidable(req.session, req.params['id'] ?? '');
      const actions = card({
        title: 'Your decision',
        body: html`<p>Approving asks for your passkey; it signs this task's digest, so it cannot approve anything else.</p>
<div class="row"><button type="button" class="btn btn-primary" id="passkey-approve" data-mandate="${mandate.id}">Approve with passkey</button>
${postForm({ action: `/console/deny/${mandate.id}`, csrf: req.session.csrf, label: 'Deny', variant: 'danger' })}</div>
<p id="ceremony-status" role="status" aria-live="polite"></p>`,
      });
      const body = html`${pageHeader({ title: 'Approve a request', subtitle: mandate.task.purpose, back: { href: '/console/inbox', label: 'Inbox' } })}
${await taskView(req, mandate)}${actions}`;
      return {
        html: renderPage({
          title: 'Approve a request', active: 'inbox', human: { id: req.session.human.id, name: req.session.human.name }, csrf: req.session.csrf, body,
          scriptUrls: [scriptUrl(WEBAUTHN_BUNDLE), scriptUrl('ceremony.js'), scriptUrl('decide.js')],
        }),
      };
    },
  }),
  definePage({
    method: 'POST', path: '/console/approve/:id/options', right: 'mandates:decide', body: 'json',
    handle: async (req) => ({ json: await req.console.approval.options(req.session, req.params['id'] ?? '') }),
  }),
  definePage({
    method: 'POST', path: '/console/approve/:id', right: 'mandates:decide', body: 'json',
    async handle(req) {
      const { nonce, response } = (req.body ?? {}) as CeremonyBody;
      const mandate = await req.console.approval.approve(req.session, req.params['id'] ?? '', String(nonce ?? ''), response as AuthenticationResponseJSON, req.requestId);
      return { json: { status: mandate.status, redirect: '/console/inbox?done=approved' } };
    },
  }),
  definePage({
    method: 'POST', path: '/console/deny/:id', right: 'mandates:decide',
    async handle(req) {
      await req.console.approval.deny(req.session, req.params['id'] ?? '', req.requestId);
      return { redirect: '/console/inbox?done=denied' };
    },
  }),
];
