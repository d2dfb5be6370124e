import { emptyState, mono, pageHeader, table, time } from '../components.ts';
import { html } from '../html.ts';
import { renderPage } from '../layout.ts';
import { definePage } from '../route.ts';

const NOTICES: Record<string, string> = {
  approved: 'Approved. The agent receives its token at its next poll.',
  denied: 'Denied. The agent is told at its next poll.',
  resumed: 'Resumed. The agent may mint tokens again.',
};

/** The approvals inbox: pending requests naming the signed-in human (PROTOCOL §4: only they may decide). */
export const inboxPages = [
  definePage({
    method: 'GET', path: '/console/inbox', right: 'mandates:read',
    async handle(req) {
      const pending = await req.deps.loop.decisions.list({ approverId: req.session.human.id, status: 'pending' }, 100);
      const agents = new Map(await Promise.all(pending.map(async (m) => [m.agentId, (await req.deps.store.agents.get(m.agentId))?.name ?? m.agentId] as const)));
      const rows = pending.map((m) => [
        html`<a href="/console/approve/${m.id}">${agents.get(m.agentId) ?? m.agentId}</a>`,
        m.task.purpose, mono(m.task.locations[0]), m.task.actions.join(', '), time(m.requestExpiresAt),
      ]);
      const notice = NOTICES[req.query['done'] ?? ''];
      const body = html`${pageHeader({ title: 'Approvals inbox', subtitle: 'Requests from agents that name you as approver.' })}
${table({ caption: 'Pending requests', columns: ['Agent', 'Purpose', 'Audience', 'Actions', 'Request expires'], rows, empty: emptyState('Nothing to decide', 'New requests appear here.') })}`;
      return {
        html: renderPage({
          title: 'Inbox', active: 'inbox', human: { id: req.session.human.id, name: req.session.human.name }, csrf: req.session.csrf, body,
          ...(notice ? { flash: { kind: 'ok' as const, text: notice } } : {}),
        }),
      };
    },
  }),
];
