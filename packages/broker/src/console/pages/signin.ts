import type { AuthenticationResponseJSON } from '@simplewebauthn/server';
import { card, pageHeader } from '../components.ts';
import { html } from '../html.ts';
import { renderPage } from '../layout.ts';
import { assetUrl } from '../assets.ts';
import { definePage, definePublicPage, type PublicConsoleRequest } from '../route.ts';
import { scriptUrl, WEBAUTHN_BUNDLE } from '../scripts.ts';
import { clearOidcCookie, clearSessionCookie, OIDC_COOKIE, setOidcCookie, setSessionCookie } from '../session-cookie.ts';

/** Only console paths: an open redirect through `next` would make sign-in a phishing helper. */
export function safeNext(next: string | undefined): string {
  return next && /^\/console(\/[A-Za-z0-9_\-./?=&%]*)?$/.test(next) && !next.includes('//') ? next : '/console/inbox';
}

function signinPage(req: PublicConsoleRequest): { html: string } {
  const next = safeNext(req.query['next']);
  const oidc = req.console.oidc
    ? html`<p><a class="btn btn-secondary" href="/console/oidc/start?next=${encodeURIComponent(next)}">Sign in with your organisation</a></p>
<p class="muted">Approving a request still asks for your passkey.</p>`
    : '';
  const body = html`${pageHeader({ title: 'Sign in' })}
${card({ body: html`<p>Use the passkey you created from your invite link.</p>
<p><button type="button" class="btn btn-primary" id="passkey-signin" data-next="${next}">Sign in with a passkey</button></p>
<p id="ceremony-status" role="status" aria-live="polite"></p>${oidc}` })}`;
  return { html: renderPage({ title: 'Sign in', human: null, body, scriptUrls: [scriptUrl(WEBAUTHN_BUNDLE), scriptUrl('ceremony.js'), scriptUrl('signin.js')] }) };
}

export const signinPages = [
  definePublicPage({ method: 'GET', path: '/console', handle: async () => ({ redirect: '/console/inbox' }) }),
  definePublicPage({
    method: 'GET', path: '/console/signin',
    handle: async (req) => (req.session ? { redirect: safeNext(req.query['next']) } : signinPage(req)),
  }),
  definePublicPage({
    method: 'POST', path: '/console/signin/options', body: 'json',
    handle: async (req) => ({ json: await req.console.passkeys.signInOptions() }),
  }),
  definePublicPage({
    method: 'POST', path: '/console/signin', body: 'json',
    async handle(req) {
      const { response, next } = (req.body ?? {}) as { response?: AuthenticationResponseJSON; next?: string };
      const humanId = await req.console.passkeys.signIn(response as AuthenticationResponseJSON);
      const value = await req.console.auth.startSession(humanId, 'passkey', req.requestId, true);
      setSessionCookie(req.reply, value, req.deps.config.console.sessionTtl);
      return { json: { redirect: safeNext(next) } };
    },
  }),
  definePage({
    method: 'POST', path: '/console/signout',
    async handle(req) {
      await req.console.auth.endSession(req.session.idHash);
      clearSessionCookie(req.reply);
      return { redirect: '/console/signin' };
    },
  }),
  definePublicPage({
    method: 'GET', path: '/console/oidc/start',
    async handle(req) {
      if (!req.console.oidc) return { redirect: '/console/signin' };
      const { url, cookie } = await req.console.oidc.start(safeNext(req.query['next']));
      setOidcCookie(req.reply, cookie);
      return { redirect: url };
    },
  }),
  definePublicPage({
    method: 'GET', path: '/console/oidc/callback',
    async handle(req) {
      if (!req.console.oidc) return { redirect: '/console/signin' };
      const { humanId, next } = await req.console.oidc.finish(`${req.console.origin}${req.request.url}`, req.request.cookies[OIDC_COOKIE]);
      clearOidcCookie(req.reply);
      const value = await req.console.auth.startSession(humanId, 'oidc', req.requestId, false);
      setSessionCookie(req.reply, value, req.deps.config.console.sessionTtl);
      return { html: continuePage(next) };
    },
  }),
];


/**
 * After the IdP's redirect the navigation chain started on another site, so a 303 onwards would go
 * without the new `SameSite=Strict` cookie. A same-origin refresh starts a fresh, same-site navigation.
 */
function continuePage(next: string): string {
  return `<!doctype html>\n${html`<html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="0;url=${next}">
<title>Signed in · Mandate</title><link rel="stylesheet" href="${assetUrl('console.css')}"></head>
<body><main id="main" class="container"><h1>Signed in</h1><p><a href="${next}">Continue to the console</a></p></main></body></html>`}\n`;
}
