import type { ConsoleSession } from '../../services/console-auth.ts';
import { pageHeader } from '../components.ts';
import { html } from '../html.ts';
import { renderPage } from '../layout.ts';

/** An error as a page: the catalogue title, the message written for the caller, and the stable code. */
export function errorPage(session: ConsoleSession | null, status: number, title: string, detail: string, code: string): string {
  const signIn = status === 401 ? html`<p><a class="btn btn-primary" href="/console/signin">Sign in</a></p>` : '';
  return renderPage({
    title, human: session ? { id: session.human.id, name: session.human.name } : null, csrf: session?.csrf ?? null,
    body: html`${pageHeader({ title })}<div class="notice error" role="alert"><p>${detail}</p><p class="muted">Error ${code} (HTTP ${status})</p></div>${signIn}`,
  });
}
