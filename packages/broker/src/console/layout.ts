import { assetUrl } from './assets.ts';
import { html, type Html } from './html.ts';

export type NavItem = 'inbox' | 'agents' | 'mandates' | 'reviews' | 'audit' | 'findings';

export interface PageOptions {
  /** The page's own title; the document title is `<title> · Mandate`. */
  title: string;
  /** The signed-in human; null on pages before sign-in (no navigation, no sign-out). */
  human: { id: string; name: string } | null;
  active?: NavItem | null;
  body: Html;
  /** The session's CSRF token, for the sign-out form and scripts (`<meta name="csrf-token">`). */
  csrf?: string | null;
  /** Unread inbox items, shown on the Inbox link. */
  badge?: number;
  flash?: { kind: 'ok' | 'error'; text: string };
  /** Further files under /console/assets/ (each loaded with `defer`). */
  scripts?: readonly string[];
  /** Scripts served elsewhere under /console (e.g. /console/scripts/approve.js), loaded with `defer`. */
  scriptUrls?: readonly string[];
}

const NAV: readonly { id: NavItem; label: string; href: string }[] = [
  { id: 'inbox', label: 'Inbox', href: '/console/inbox' },
  { id: 'agents', label: 'Agents', href: '/console/agents' },
  { id: 'mandates', label: 'Mandates', href: '/console/mandates' },
  { id: 'reviews', label: 'Reviews', href: '/console/reviews' },
  { id: 'audit', label: 'Audit', href: '/console/audit' },
  { id: 'findings', label: 'Findings', href: '/console/findings' },
];

/** A full HTML document: no inline script or style anywhere, so CSP `default-src 'self'` holds. */
export function renderPage(options: PageOptions): string {
  const scripts = options.scripts ?? [];
  return `<!doctype html>\n${html`<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${options.title} · Mandate</title>
${options.csrf ? html`<meta name="csrf-token" content="${options.csrf}">` : ''}
<link rel="stylesheet" href="${assetUrl('console.css')}">
<link rel="icon" href="${assetUrl('favicon.svg')}" type="image/svg+xml">
${[...scripts.map(assetUrl), ...(options.scriptUrls ?? [])].map((src) => html`<script src="${src}" defer></script>`)}
${options.human ? html`<script type="module" src="/console/scripts/notifications.js"></script>` : ''}
</head>
<body>
<a class="skip-link" href="#main">Skip to content</a>
${header(options)}
<main id="main" class="container" tabindex="-1">
${options.flash ? flash(options.flash) : ''}
${options.body}
</main>
<footer class="site-footer"><div class="container">Mandate identity broker · human-approved mandates for AI agents</div></footer>
</body>
</html>`}\n`;
}

function header(options: PageOptions): Html {
  return html`<header class="site-header"><div class="container header-row">
<a class="brand" href="/console/inbox"><span class="brand-mark" aria-hidden="true"></span>Mandate</a>
${options.human ? nav(options) : ''}
${options.human ? account(options.human, options.csrf ?? '') : ''}
</div></header>`;
}

function nav(options: PageOptions): Html {
  const link = (item: (typeof NAV)[number]) => {
    const current = item.id === options.active;
    // Always rendered (hidden at 0): notifications.js updates it live from /console/events.
    const count = options.badge ?? 0;
    const badge = item.id === 'inbox' ? html` <span class="badge" id="inbox-badge"${count === 0 ? html` hidden` : ''}>${count}</span><span class="visually-hidden"> unread</span>` : '';
    return html`<li><a href="${item.href}"${current ? html` aria-current="page"` : ''}>${item.label}${badge}</a></li>`;
  };
  return html`<nav class="main-nav" aria-label="Main"><ul>${NAV.map(link)}</ul></nav>`;
}

function account(human: { id: string; name: string }, csrf: string): Html {
  return html`<div class="account">
<span class="account-name" title="${human.id}">${human.name}</span>
<form method="post" action="/console/signout"><input type="hidden" name="_csrf" value="${csrf}"><button class="btn btn-link" type="submit">Sign out</button></form>
</div>`;
}

function flash(notice: { kind: 'ok' | 'error'; text: string }): Html {
  const role = notice.kind === 'error' ? 'alert' : 'status';
  return html`<div class="notice ${notice.kind}" role="${role}">${notice.text}</div>`;
}
