import type { Command } from 'commander';
import { adminAction, leaf, printable, printRecord, printTable, type ActionApi, type Io } from './cli-output.ts';

const FINDING_COLUMNS = ['id', 'status', 'kind', 'file', 'line', 'owner_guess'];
const collect = (value: string, previous: string[]) => [...previous, value];
const segment = (id: string) => encodeURIComponent(id);

/** `mandate finding list|show|convert|dismiss`: clients of the admin API (docs/lifecycle.md). */
export function registerFindingCommands(program: Command): void {
  const finding = program.command('finding').description('Findings: borrowed human credentials reported by `mandate scan --report`');
  leaf(finding, 'list', 'List findings, oldest first')
    .option('--status <status>', 'open | converted | dismissed')
    .action(adminAction(async ({ client, io, json, options }) => {
      const query = options.status ? `?status=${encodeURIComponent(options.status as string)}` : '';
      printTable(io, (await client.get(`/admin/v1/findings${query}`)).findings as Record<string, unknown>[], FINDING_COLUMNS, json);
    }));
  leaf(finding, 'show <id>', 'Show a finding (with its proposal and checklist once converted)')
    .action(adminAction(async ({ client, io, json, args }) => printFinding(io, await client.get(`/admin/v1/findings/${segment(args[0]!)}`), json)));
  leaf(finding, 'convert <id>', 'Propose an agent registration, a draft task and a remediation checklist for an open finding')
    .option('--agent-name <name>', 'name of the agent to register (default: borrowed-<id>)')
    .option('--owner <usr_id>', "the human whose credential it was (default: the human whose email is the finding's owner guess)")
    .option('--purpose <text>', 'purpose of the draft task')
    .option('--action <action>', 'action of the draft task (repeatable; default read)', collect, [])
    .action(adminAction(convert));
  leaf(finding, 'dismiss <id>', 'Dismiss an open finding (e.g. a test fixture)')
    .requiredOption('--reason <text>', 'why it is not a borrowed credential to convert')
    .action(adminAction(async ({ client, io, json, args, options }) => {
      printFinding(io, await client.post(`/admin/v1/findings/${segment(args[0]!)}/dismiss`, { reason: options.reason as string }), json);
    }));
}

async function convert({ client, io, json, args, options }: ActionApi): Promise<void> {
  const id = args[0]!;
  const actions = options.action as string[];
  const body = {
    agent_name: (options.agentName as string | undefined) ?? defaultAgentName(id),
    ...(options.owner ? { owner: options.owner as string } : {}),
    ...(options.purpose ? { purpose: options.purpose as string } : {}),
    ...(actions.length > 0 ? { actions } : {}),
  };
  printFinding(io, await client.post(`/admin/v1/findings/${segment(id)}/convert`, body), json);
}

/** `borrowed-` and the first characters of the finding id: a valid, recognisable agent name. */
export function defaultAgentName(findingId: string): string {
  return `borrowed-${findingId.replace(/^fnd_/, '').replace(/[^A-Za-z0-9]/g, '').slice(0, 10).toLowerCase()}`;
}

interface Proposal {
  agent: { name: string; owners: string[]; policy: string | null };
  task: Record<string, unknown>;
  login_hint: string;
  checklist: Array<{ title: string; detail: string; url?: string }>;
}

function printFinding(io: Io, finding: Record<string, unknown>, json: boolean): void {
  const { conversion, ...rest } = finding;
  printRecord(io, json ? finding : rest, json);
  if (json || !conversion) return;
  const proposal = conversion as Proposal;
  io.out('\nproposed agent registration:\n');
  io.out(printable(`  mandate agent add --name ${proposal.agent.name} --owner ${proposal.agent.owners.join(' --owner ')} --policy ${proposal.agent.policy ?? '<policy>'} --jwk <agent public key>`) + '\n');
  io.out(`\ndraft task (the agent asks for it over CIBA with login_hint ${printable(proposal.login_hint)}):\n`);
  io.out(`${JSON.stringify(proposal.task, null, 2).split('\n').map((line) => `  ${printable(line)}`).join('\n')}\n`);
  io.out('\nremediation checklist:\n');
  proposal.checklist.forEach((item, i) => {
    io.out(printable(`  ${i + 1}. [ ] ${item.title}${item.url ? ` (${item.url})` : ''}`) + '\n');
    io.out(printable(`         ${item.detail}`) + '\n');
  });
}
