import type { AuthenticationResponseJSON } from '@simplewebauthn/server';
import { card, pageHeader } from '../components.ts';
import { html } from '../html.ts';
import { renderPage } from '../layout.ts';
import { definePage } from '../route.ts';
import { scriptUrl, WEBAUTHN_BUNDLE } from '../scripts.ts';
import { taskView } from './task-view.ts';

/** PROTOCOL §8: resuming a suspended mandate (original approver, fresh passkey, affirming attestation). */
export const resumePages = [
  definePage({
    method: 'GET', path: '/console/resume/:id', right: 'mandates:decide',
    async handle(req) {
      const mandate = await req.console.resume.resumable(req.session, req.params['id'] ?? '');
      const actions = card({
        title: 'Resume',
        body: html`<p>The agent has attested again and its evidence affirms. Resuming asks for your passkey over this task's digest.</p>
<p><button type="button" class="btn btn-primary" id="passkey-resume" data-mandate="${mandate.id}">Resume with passkey</button></p>
<p id="ceremony-status" role="status" aria-live="polite"></p>`,
      });
      const body = html`${pageHeader({ title: 'Resume a suspended mandate', subtitle: mandate.task.purpose, back: { href: '/console/inbox', label: 'Inbox' } })}
${await taskView(req, mandate)}${actions}`;
      return {
        html: renderPage({
          title: 'Resume a mandate', active: 'mandates', human: { id: req.session.human.id, name: req.session.human.name }, csrf: req.session.csrf, body,
          scriptUrls: [scriptUrl(WEBAUTHN_BUNDLE), scriptUrl('ceremony.js'), scriptUrl('decide.js')],
        }),
      };
    },
  }),
  definePage({
    method: 'POST', path: '/console/resume/:id/options', right: 'mandates:decide', body: 'json',
    handle: async (req) => ({ json: await req.console.resume.options(req.session, req.params['id'] ?? '') }),
  }),
  definePage({
    method: 'POST', path: '/console/resume/:id', right: 'mandates:decide', body: 'json',
    async handle(req) {
      const { nonce, response } = (req.body ?? {}) as { nonce?: string; response?: AuthenticationResponseJSON };
      const mandate = await req.console.resume.resume(req.session, req.params['id'] ?? '', String(nonce ?? ''), response as AuthenticationResponseJSON, req.requestId);
      return { json: { status: mandate.status, redirect: '/console/inbox?done=resumed' } };
    },
  }),
];
