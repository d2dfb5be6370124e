import type { Command } from 'commander';
import { UsageError } from './admin-client.ts';
import { adminAction, leaf, printable, printRecord, printTable, type ActionApi } from './cli-output.ts';

type Wire = Record<string, unknown>;

const COLUMNS = ['mandate', 'agent', 'due_at', 'suspends_at', 'state', 'last_review'];

/**
 * `mandate review`: the access reviews due for the caller (owners of agents; `--all` for admins),
 * and `mandate review <id> --keep|--revoke` to certify one. Clients of the admin API
 * (`GET /admin/v1/reviews`, `POST /admin/v1/mandates/{id}/review`).
 */
export function registerReviewCommands(program: Command): void {
  leaf(program, 'review [id]', 'List mandates due for review (owners: your agents; --all: every one), or keep or revoke one')
    .option('--keep', 'certify the mandate: the next review is due reviews.reviewEvery from now')
    .option('--revoke', 'revoke the mandate, every mandate delegated below it and their tokens')
    .option('--note <text>', 'why (recorded in the audit log)')
    .option('--all', 'every active mandate, not only your agents\' (admin right)')
    .option('--upcoming', 'also list reviews not yet due')
    .action(adminAction(review));
}

async function review(api: ActionApi): Promise<void> {
  const id = api.args[0];
  const { keep, revoke, note } = api.options as { keep?: boolean; revoke?: boolean; note?: string };
  if (id === undefined) {
    if (keep || revoke || note) throw new UsageError('--keep, --revoke and --note need a mandate id');
    return listDue(api);
  }
  if (keep === revoke) throw new UsageError('give exactly one of --keep or --revoke');
  const body = { decision: keep ? 'keep' : 'revoke', ...(note ? { note } : {}) };
  const result = await api.client.post(`/admin/v1/mandates/${encodeURIComponent(id)}/review`, body);
  if (api.json) return printRecord(api.io, result, true);
  const mandate = result.mandate as Wire;
  const next = result.review as Wire;
  printRecord(api.io, {
    mandate: mandate.id, status: mandate.status, decision: body.decision,
    next_review_due: body.decision === 'keep' ? next.due_at : null, end_reason: typeof mandate.end_reason === 'string' ? printable(mandate.end_reason) : mandate.end_reason,
  }, false);
}

async function listDue({ client, io, json, options }: ActionApi): Promise<void> {
  const query = new URLSearchParams({ due: options.upcoming ? 'false' : 'true', ...(options.all ? { all: 'true' } : {}) });
  const listing = await client.get(`/admin/v1/reviews?${query}`);
  if (json) return printRecord(io, listing, true);
  if (listing.enabled === false) return io.out('access reviews are off (reviews.reviewEvery)\n');
  const rows = (listing.reviews as Wire[]).map((r) => ({
    mandate: r.mandate_id, agent: r.agent_id, due_at: r.due_at, suspends_at: r.suspends_at, state: r.due ? 'due' : 'upcoming',
    last_review: r.last_decision ? `${String(r.last_decision)} by ${String(r.last_reviewed_by)} at ${String(r.last_reviewed_at)}` : null,
  }));
  printTable(io, rows, COLUMNS, false);
}
