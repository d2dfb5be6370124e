import assert from 'node:assert/strict';
import { test } from 'node:test';
import { confirmPage, statusPill, table } from './components.ts';
import { html } from './html.ts';
import { renderPage } from './layout.ts';

const human = { id: 'usr_1', name: 'Alice <admin>' };

test('a page is a full document: lang, title, skip link, one main landmark, the active section marked', () => {
  const page = renderPage({ title: 'Agents', human, active: 'agents', body: html`<h1>Agents</h1>`, csrf: 'tok' });
  assert.match(page, /^<!doctype html>\n<html lang="en">/);
  assert.match(page, /<title>Agents · Mandate<\/title>/);
  assert.match(page, /<a class="skip-link" href="#main">/);
  assert.equal(page.match(/<main /g)?.length, 1);
  assert.match(page, /<a href="\/console\/agents" aria-current="page">Agents<\/a>/);
  assert.match(page, /<meta name="csrf-token" content="tok">/);
  assert.match(page, /name="_csrf" value="tok"/, 'the sign-out form carries the CSRF token');
  assert.match(page, /Alice &lt;admin&gt;/, 'the human name is escaped');
});

test('nothing inline: every script has a src, no style attributes or elements, no event handlers (CSP default-src \'self\')', () => {
  const page = renderPage({ title: 'x', human, active: 'inbox', body: html`${table({ caption: 'c', columns: ['a'], rows: [[statusPill('revoked')]] })}`, csrf: 't', badge: 3, scriptUrls: ['/console/scripts/decide.js'] });
  for (const script of page.match(/<script[^>]*>/g) ?? []) assert.match(script, / src="\/console\//);
  assert.doesNotMatch(page, /<style|\sstyle=|\son[a-z]+=/i);
});

test('the inbox badge is always rendered for live updates, hidden at zero', () => {
  assert.match(renderPage({ title: 'x', human, body: html``, badge: 0 }), /<span class="badge" id="inbox-badge" hidden>0<\/span>/);
  assert.match(renderPage({ title: 'x', human, body: html``, badge: 4 }), /<span class="badge" id="inbox-badge">4<\/span>/);
});

test('signed out: no navigation and no sign-out form', () => {
  const page = renderPage({ title: 'Sign in', human: null, body: html`<h1>Sign in</h1>` });
  assert.doesNotMatch(page, /main-nav|signout/);
});

test('a confirm page posts with the CSRF token and offers a way back', () => {
  const body = String(confirmPage({ title: 'Revoke?', question: 'Sure?', action: '/console/x', csrf: 'c"t', confirmLabel: 'Revoke', cancelHref: '/console/y', reason: true }));
  assert.match(body, /<form method="post" action="\/console\/x"/);
  assert.match(body, /name="_csrf" value="c&quot;t"/);
  assert.match(body, /<label for="reason">/);
  assert.match(body, /href="\/console\/y">Cancel<\/a>/);
});
