import { html, type Html, type HtmlValue } from './html.ts';

/** Small building blocks every console page uses, so all pages look and behave alike. */

export function pageHeader(options: { title: string; subtitle?: HtmlValue; actions?: Html; back?: { href: string; label: string } }): Html {
  return html`<div class="page-header">
${options.back ? html`<a class="back-link" href="${options.back.href}">← ${options.back.label}</a>` : ''}
<div class="page-title-row"><div><h1>${options.title}</h1>${options.subtitle ? html`<p class="subtitle">${options.subtitle}</p>` : ''}</div>
${options.actions ? html`<div class="page-actions">${options.actions}</div>` : ''}</div>
</div>`;
}

export function card(options: { title?: string; body: HtmlValue; id?: string; actions?: Html }): Html {
  const labelled = options.title && options.id ? html` aria-labelledby="${options.id}-title"` : '';
  return html`<section class="card"${options.id ? html` id="${options.id}"` : ''}${labelled}>
${options.title ? html`<div class="card-head"><h2${options.id ? html` id="${options.id}-title"` : ''}>${options.title}</h2>${options.actions ?? ''}</div>` : ''}
${options.body}
</section>`;
}

const PILL_TONES: Record<string, 'ok' | 'warn' | 'danger' | 'neutral'> = {
  active: 'ok', approved: 'ok', verified: 'ok', affirming: 'ok', warning: 'warn', converted: 'ok', open: 'warn', satisfied: 'ok',
  pending: 'warn', suspended: 'warn', failed: 'danger', missing: 'warn',
  revoked: 'danger', denied: 'danger', rejected: 'danger', retired: 'danger', contraindicated: 'danger',
  expired: 'neutral', exhausted: 'neutral', dismissed: 'neutral',
};

/** A status as text plus colour (colour is never the only signal: the word is always shown). */
export function statusPill(status: string): Html {
  return html`<span class="pill ${PILL_TONES[status] ?? 'neutral'}">${status}</span>`;
}

export function definitionList(items: readonly (readonly [string, HtmlValue])[]): Html {
  const value = (v: HtmlValue) => (v === null || v === undefined || v === '' ? html`<span class="muted">—</span>` : v);
  return html`<dl class="dl">${items.map(([term, v]) => html`<div><dt>${term}</dt><dd>${value(v)}</dd></div>`)}</dl>`;
}

/** A data table in a horizontally scrollable, focusable region (WCAG 2.1.1 for keyboard scrolling). */
export function table(options: { caption: string; columns: readonly string[]; rows: readonly (readonly HtmlValue[])[]; empty?: Html; captionHidden?: boolean }): Html {
  if (options.rows.length === 0) return options.empty ?? emptyState('Nothing here yet');
  return html`<div class="table-wrap" role="region" aria-label="${options.caption}" tabindex="0"><table class="data">
<caption${options.captionHidden === false ? '' : html` class="visually-hidden"`}>${options.caption}</caption>
<thead><tr>${options.columns.map((c) => html`<th scope="col">${c}</th>`)}</tr></thead>
<tbody>${options.rows.map((row) => html`<tr>${row.map((cell) => html`<td>${cell}</td>`)}</tr>`)}</tbody>
</table></div>`;
}

export function emptyState(title: string, text?: HtmlValue): Html {
  return html`<div class="empty"><p class="empty-title">${title}</p>${text ? html`<p class="muted">${text}</p>` : ''}</div>`;
}

function hiddenFields(csrf: string, fields: Record<string, string> = {}): Html {
  return html`<input type="hidden" name="_csrf" value="${csrf}">${Object.entries(fields).map(([n, v]) => html`<input type="hidden" name="${n}" value="${v}">`)}`;
}

export type ButtonVariant = 'primary' | 'danger' | 'secondary';

/**
 * A one-button POST form. With `confirm`, the button is a link to the server-rendered confirm page
 * (`confirmHref`); console.js upgrades it to a modal `<dialog>` holding the same form.
 */
export function postForm(options: { action: string; csrf: string; label: string; variant?: ButtonVariant; fields?: Record<string, string> }): Html {
  return html`<form method="post" action="${options.action}" class="inline-form">${hiddenFields(options.csrf, options.fields)}<button type="submit" class="btn btn-${options.variant ?? 'secondary'}">${options.label}</button></form>`;
}

/** The second step of a destructive action: what will happen, a reason, confirm or cancel. */
export function confirmPage(options: {
  title: string; question: HtmlValue; details?: Html; action: string; csrf: string; confirmLabel: string; cancelHref: string;
  fields?: Record<string, string>; reason?: boolean; variant?: ButtonVariant;
}): Html {
  return html`<div class="confirm card" role="group" aria-labelledby="confirm-title">
<h1 id="confirm-title">${options.title}</h1>
<p class="confirm-question">${options.question}</p>
${options.details ?? ''}
<form method="post" action="${options.action}" class="stack">${hiddenFields(options.csrf, options.fields)}
${options.reason ? html`<div class="field"><label for="reason">Reason <span class="muted">(recorded in the audit trail)</span></label>
<input id="reason" name="reason" type="text" required maxlength="200" autocomplete="off" autofocus></div>` : ''}
<div class="row"><button type="submit" class="btn btn-${options.variant ?? 'danger'}">${options.confirmLabel}</button>
<a class="btn btn-secondary" href="${options.cancelHref}">Cancel</a></div>
</form></div>`;
}

/** An action that needs confirmation: a link to its confirm page (works without JS). */
export function confirmLink(options: { href: string; label: string; variant?: ButtonVariant; describedBy?: string }): Html {
  return html`<a class="btn btn-${options.variant ?? 'danger'}" href="${options.href}"${options.describedBy ? html` aria-describedby="${options.describedBy}"` : ''}>${options.label}</a>`;
}

export function time(ms: number | null): Html {
  if (ms === null) return html`<span class="muted">—</span>`;
  const iso = new Date(ms).toISOString();
  return html`<time datetime="${iso}">${iso.slice(0, 19).replace('T', ' ')} UTC</time>`;
}

export function mono(text: string | null): Html {
  return text === null ? html`<span class="muted">—</span>` : html`<code class="mono">${text}</code>`;
}
