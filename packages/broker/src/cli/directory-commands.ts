import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { UsageError } from './admin-client.ts';
import { adminAction, leaf, printRecord, printTable, type ActionApi } from './cli-output.ts';
import { registerTokenCommands } from './token-commands.ts';
import { registerHumanAccessCommands } from './human-access-commands.ts';

const HUMAN_COLUMNS = ['id', 'status', 'name', 'email'];
const AGENT_COLUMNS = ['id', 'status', 'kind', 'name', 'policy', 'owners'];
const collect = (value: string, previous: string[]) => [...previous, value];
const segment = (id: string) => encodeURIComponent(id);

/** `mandate human …`, `mandate agent …` and `mandate token …`: clients of the admin API. */
export function registerDirectoryCommands(program: Command): void {
  registerHumanCommands(program);
  registerAgentCommands(program);
  registerTokenCommands(program);
}

function registerHumanCommands(program: Command): void {
  const human = program.command('human').description('Humans: owners, approvers, admins');
  leaf(human, 'add', 'Add a human')
    .requiredOption('--name <name>', 'display name')
    .option('--email <email>', 'email address')
    .action(adminAction(async ({ client, io, json, options }) => {
      const body = { name: options.name as string, ...(options.email ? { email: options.email as string } : {}) };
      printRecord(io, await client.post('/admin/v1/humans', body), json);
    }));
  leaf(human, 'list', 'List humans').action(adminAction(async ({ client, io, json }) => {
    printTable(io, (await client.get('/admin/v1/humans')).humans as Record<string, unknown>[], HUMAN_COLUMNS, json);
  }));
  leaf(human, 'show <id>', 'Show a human').action(adminAction(async ({ client, io, json, args }) => {
    printRecord(io, await client.get(`/admin/v1/humans/${segment(args[0]!)}`), json);
  }));
  leaf(human, 'disable <id>', 'Disable a human (their agents without another active owner become orphans)')
    .action(adminAction(async ({ client, io, json, args }) => {
      printRecord(io, await client.post(`/admin/v1/humans/${segment(args[0]!)}/disable`), json);
    }));
  registerHumanAccessCommands(human);
}

function registerAgentCommands(program: Command): void {
  const agent = program.command('agent').description('Agents: registration and lifecycle');
  leaf(agent, 'add', 'Register an agent')
    .requiredOption('--name <name>', 'agent name (letters, digits, . _ -)')
    .option('--owner <usr_id>', 'owning human (repeat for several; at least one)', collect, [])
    .option('--approver <usr_id>', 'human who may approve its mandates (repeatable; default: the owners)', collect, [])
    .requiredOption('--policy <name>', 'attestation policy name from the config')
    .requiredOption('--jwk <file-or-json>', "the agent's public JWK (EC P-256 or Ed25519), as a file or inline JSON")
    .option('--kind <kind>', 'ai_agent | workload | service', 'ai_agent')
    .action(adminAction(addAgent));
  leaf(agent, 'list', 'List agents').action(adminAction(async ({ client, io, json }) => {
    printTable(io, (await client.get('/admin/v1/agents')).agents as Record<string, unknown>[], AGENT_COLUMNS, json);
  }));
  leaf(agent, 'show <id>', 'Show an agent').action(adminAction(async ({ client, io, json, args }) => {
    printRecord(io, await client.get(`/admin/v1/agents/${segment(args[0]!)}`), json);
  }));
  for (const [verb, description] of [['suspend', 'Suspend an active agent'], ['retire', 'Retire an agent (terminal)']] as const) {
    leaf(agent, `${verb} <id>`, description).action(adminAction(async ({ client, io, json, args }) => {
      printRecord(io, await client.post(`/admin/v1/agents/${segment(args[0]!)}/${verb}`), json);
    }));
  }
}

async function addAgent({ client, io, json, options }: ActionApi): Promise<void> {
  const owners = options.owner as string[];
  if (owners.length === 0) throw new UsageError('at least one --owner <usr_id> is required');
  const approvers = options.approver as string[];
  const body = {
    name: options.name as string,
    kind: options.kind as string,
    owners,
    ...(approvers.length > 0 ? { approvers } : {}),
    policy: options.policy as string,
    jwk: readJwk(options.jwk as string),
  };
  printRecord(io, await client.post('/admin/v1/agents', body), json);
}

/** Inline JSON when it looks like an object, otherwise a file path. */
export function readJwk(value: string): Record<string, unknown> {
  let text = value.trim();
  if (!text.startsWith('{')) {
    try {
      text = readFileSync(value, 'utf8');
    } catch {
      throw new UsageError(`--jwk: cannot read file ${value}`);
    }
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new UsageError('--jwk: not valid JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new UsageError('--jwk: expected a JSON object');
  return parsed as Record<string, unknown>;
}
