import { MandateError } from '../../core/errors.ts';
import { hasRight, type Agent } from '../../core/model.ts';
import type { Mandate } from '../../core/mandate.ts';
import type { ActionContext } from '../../services/action-context.ts';
import { html, type Html } from '../html.ts';
import { renderPage, type NavItem } from '../layout.ts';
import type { ConsoleRequest } from '../route.ts';

/** Outcome notices after a POST-redirect-GET; only these fixed texts are shown (nothing reflected). */
const NOTICES: Record<string, string> = {
  suspended: 'The agent is suspended. Its mandates are suspended and its tokens revoked.',
  revoked: 'The mandate is revoked, with every mandate delegated below it and every token minted under them.',
  credential_revoked: 'The credential is revoked. Resource servers see it as inactive from now on.',
};

/** A full console page for the signed-in human. */
export async function consolePage(req: ConsoleRequest, options: { title: string; active: NavItem; body: Html }): Promise<{ html: string }> {
  const session = req.session;
  const notice = NOTICES[req.query['done'] ?? ''];
  const badge = await req.deps.notifications.unreadCount(session.human.id);
  return {
    html: renderPage({
      ...options, human: { id: session.human.id, name: session.human.name }, csrf: session.csrf, badge,
      ...(notice ? { flash: { kind: 'ok' as const, text: notice } } : {}),
    }),
  };
}

/** Who acts, for the services' audit events (the same shape the admin API passes). */
export function actionOf(req: ConsoleRequest): ActionContext {
  const session = req.session;
  return { actor: session.human.id, requestId: req.requestId, callerRights: session.rights };
}

/**
 * Beyond the admin API's right, the console scopes changes to the humans who answer for them:
 * an owner of the agent, the mandate's approver, or an admin.
 */
export function isResponsible(req: ConsoleRequest, agent: Agent | null, mandate?: Mandate): boolean {
  const session = req.session;
  if (hasRight(session.rights, 'admin')) return true;
  return (agent?.owners.includes(session.human.id) ?? false) || mandate?.approverId === session.human.id;
}

/** PROTOCOL §8: only the original approver may resume a suspended mandate (the resume page checks the rest). */
export function mayResume(req: ConsoleRequest, mandate: Mandate): boolean {
  return mandate.status === 'suspended' && mandate.approverId === req.session.human.id && hasRight(req.session.rights, 'mandates:decide');
}

export function requireResponsible(req: ConsoleRequest, agent: Agent | null, mandate?: Mandate): void {
  if (!isResponsible(req, agent, mandate))
    throw new MandateError('ERR_CONSOLE_NOT_RESPONSIBLE', 'only an owner of the agent, the mandate\'s approver or an admin may do this');
}

export function can(req: ConsoleRequest, right: Parameters<typeof hasRight>[1]): boolean {
  return hasRight(req.session.rights, right);
}

/** A human id shown with its name when the directory knows it. */
export async function humanLabel(req: ConsoleRequest, id: string): Promise<Html> {
  const human = await req.deps.store.humans.get(id);
  return human ? html`${human.name} <span class="cell-sub">${id}</span>` : html`<code class="mono">${id}</code>`;
}

export function reasonOf(req: ConsoleRequest): string {
  const reason = (req.form['reason'] ?? '').trim();
  if (reason.length === 0 || reason.length > 200 || /\p{Cc}/u.test(reason))
    throw new MandateError('ERR_REQUEST_INVALID_PARAMETER', 'reason: 1-200 characters without control characters', { parameter: 'reason' });
  return reason;
}
