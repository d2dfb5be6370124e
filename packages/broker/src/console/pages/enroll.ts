import type { RegistrationResponseJSON } from '@simplewebauthn/server';
import { card, pageHeader } from '../components.ts';
import { html } from '../html.ts';
import { renderPage } from '../layout.ts';
import { definePublicPage } from '../route.ts';
import { scriptUrl, WEBAUTHN_BUNDLE } from '../scripts.ts';
import { setSessionCookie } from '../session-cookie.ts';

/** Enrolment from a one-time invite link: create a passkey (user verification required), then signed in. */
export const enrollPages = [
  definePublicPage({
    method: 'GET', path: '/console/enroll/:token',
    async handle(req) {
      const { human } = await req.console.auth.checkInvite(req.params['token'] ?? '');
      const body = html`${pageHeader({ title: 'Create your passkey' })}
${card({ body: html`<p>Welcome, <strong>${human.name}</strong>. This one-time link lets you create a passkey for the Mandate console.
Your device will ask you to confirm with a PIN, fingerprint or face.</p>
<p><button type="button" class="btn btn-primary" id="passkey-enroll" data-token="${req.params['token'] ?? ''}">Create passkey</button></p>
<p id="ceremony-status" role="status" aria-live="polite"></p>` })}`;
      return { html: renderPage({ title: 'Create your passkey', human: null, body, scriptUrls: [scriptUrl(WEBAUTHN_BUNDLE), scriptUrl('ceremony.js'), scriptUrl('enroll.js')] }) };
    },
  }),
  definePublicPage({
    method: 'POST', path: '/console/enroll/:token/options', body: 'json',
    handle: async (req) => ({ json: await req.console.passkeys.enrolmentOptions(req.params['token'] ?? '') }),
  }),
  definePublicPage({
    method: 'POST', path: '/console/enroll/:token', body: 'json',
    async handle(req) {
      const { response } = (req.body ?? {}) as { response?: RegistrationResponseJSON };
      const humanId = await req.console.passkeys.enrol(req.params['token'] ?? '', response as RegistrationResponseJSON, req.requestId);
      if (req.session) await req.console.auth.endSession(req.session.idHash);
      const value = await req.console.auth.startSession(humanId, 'passkey', req.requestId, true);
      setSessionCookie(req.reply, value, req.deps.config.console.sessionTtl);
      return { json: { redirect: '/console/inbox' } };
    },
  }),
];
