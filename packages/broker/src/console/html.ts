/**
 * Escape-by-default HTML templating for the server-rendered console. Every interpolation is
 * escaped unless it is already `Html` (built by `html` or `raw`), so user data cannot open a tag
 * or leave a quoted attribute (OWASP XSS Prevention Cheat Sheet, rules 1 and 2).
 */

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;', '`': '&#96;', '=': '&#61;' };

/** Markup that is already safe: the only value the templates insert without escaping. */
export class Html {
  readonly #markup: string;
  constructor(markup: string) {
    this.#markup = markup;
  }
  toString(): string {
    return this.#markup;
  }
}

/** A value a template accepts: text is escaped, `Html` is inserted, lists are joined, nothing renders empty. */
export type HtmlValue = Html | string | number | bigint | boolean | null | undefined | readonly HtmlValue[];

/** Escapes text for HTML text content and for quoted attribute values alike. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"'`=]/g, (char) => ESCAPES[char]!);
}

function render(value: HtmlValue): string {
  if (value instanceof Html) return value.toString();
  if (value === null || value === undefined || value === false) return '';
  if (Array.isArray(value)) return value.map((item: HtmlValue) => render(item)).join('');
  return escapeHtml(String(value));
}

/**
 * @example html`<a href="${url}" title="${name}">${name}</a>` — `name` and `url` are escaped.
 * Quote every attribute: an unquoted attribute value can be ended by a space, which is not escaped.
 */
export function html(strings: TemplateStringsArray, ...values: readonly HtmlValue[]): Html {
  let out = strings[0]!;
  values.forEach((value, i) => {
    out += render(value) + strings[i + 1]!;
  });
  return new Html(out);
}

/** Trusted markup only (literals, already-rendered fragments); never user data. */
export function raw(markup: string): Html {
  return new Html(markup);
}

/**
 * URLs from data go into `href` only when they are relative paths or http(s): a `javascript:` or
 * `data:` URL would run in the console's origin even when escaped.
 */
export function safeUrl(url: string): string {
  if (/^\/(?!\/)/.test(url)) return url;
  try {
    const parsed = new URL(url);
    return parsed.protocol === 'https:' || parsed.protocol === 'http:' ? parsed.href : '#';
  } catch {
    return '#';
  }
}
