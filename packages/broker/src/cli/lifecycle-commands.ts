import type { Command } from 'commander';
import { toCsv } from '../core/csv.ts';
import { INVENTORY_COLUMNS, type InventoryRow } from '../services/inventory.ts';
import { UsageError } from './admin-client.ts';
import { adminAction, leaf, printable, type Io } from './cli-output.ts';

interface WireRun {
  checked_at: string;
  flagged: Array<{ agent_id: string; name: string; status: string; flags: Array<{ flag: string; detail: string; action: string; raised_at: string | null }> }>;
  raised: unknown[];
  cleared: unknown[];
  suspended: string[];
}

/** `mandate lifecycle [--apply]` and `mandate inventory export`: clients of the admin API. */
export function registerLifecycleCommands(program: Command): void {
  leaf(program, 'lifecycle', 'Flag orphaned, stale and review-overdue agents (a dry run unless --apply)')
    .option('--apply', 'raise and clear flags and apply the configured actions (notify, suspend), as the periodic job of serve does')
    .action(adminAction(async ({ client, io, json, options }) => {
      const run = (options.apply ? await client.post('/admin/v1/lifecycle/run') : await client.get('/admin/v1/lifecycle')) as unknown as WireRun;
      if (json) return io.out(`${JSON.stringify(run, null, 2)}\n`);
      printRun(io, run, options.apply === true);
    }));
  const inventory = program.command('inventory').description('Inventory of non-human identities');
  leaf(inventory, 'export', 'Export every agent with owners, lifecycle dates and flags')
    .option('--format <format>', 'csv | json', 'csv')
    .action(adminAction(async ({ client, io, options }) => {
      const format = options.format as string;
      if (format !== 'csv' && format !== 'json') throw new UsageError(`--format must be csv or json, got ${format}`);
      const { agents } = (await client.get('/admin/v1/inventory/export?format=json')) as { agents: InventoryRow[] };
      io.out(format === 'json' ? `${JSON.stringify(agents, null, 2)}\n` : toCsv(INVENTORY_COLUMNS, agents));
    }));
}

function printRun(io: Io, run: WireRun, applied: boolean): void {
  const lines = run.flagged.flatMap((a) => a.flags.map((f) => `${a.agent_id}  ${a.name}  ${a.status}  ${f.flag}  ${f.action}  ${f.detail}`));
  io.out(lines.length === 0 ? 'no agent is flagged\n' : `${lines.map((line) => printable(line)).join('\n')}\n`);
  if (applied) io.out(`raised ${run.raised.length}, cleared ${run.cleared.length}, suspended ${run.suspended.length}\n`);
  else io.out('dry run: nothing was changed (use --apply)\n');
}
