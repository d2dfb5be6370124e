import type { Command } from 'commander';
import { parseDuration } from '../core/duration.ts';
import { ADMIN_RIGHTS, type AdminRight } from '../core/model.ts';
import { UsageError } from './admin-client.ts';
import { adminAction, leaf, printRecord, printTable, type ActionApi } from './cli-output.ts';
import { registerTokenInspectCommand } from './token-inspect.ts';

const TOKEN_COLUMNS = ['id', 'human_id', 'label', 'rights', 'expires_at', 'revoked_at'];

/** `mandate token create|list|revoke`: admin tokens, each belonging to a named human; `token inspect` decodes any JWT. */
export function registerTokenCommands(program: Command): void {
  const token = program.command('token').description('Admin tokens; decode a JWT with token inspect');
  leaf(token, 'create', 'Create an admin token; its secret is printed once')
    .requiredOption('--human <usr_id>', 'the human the token belongs to')
    .requiredOption('--rights <list>', `comma-separated: ${ADMIN_RIGHTS.join(', ')}`)
    .option('--label <label>', 'what the token is for', 'cli')
    .option('--expires-in <duration>', 'lifetime such as 12h or 30d (default: no expiry)')
    .action(adminAction(createToken));
  leaf(token, 'list', 'List admin tokens (never their secrets)').action(adminAction(async ({ client, io, json }) => {
    printTable(io, (await client.get('/admin/v1/tokens')).tokens as Record<string, unknown>[], TOKEN_COLUMNS, json);
  }));
  leaf(token, 'revoke <id>', 'Revoke an admin token').action(adminAction(async ({ client, io, json, args }) => {
    printRecord(io, await client.post(`/admin/v1/tokens/${encodeURIComponent(args[0]!)}/revoke`), json);
  }));
  registerTokenInspectCommand(token);
}

async function createToken({ client, io, json, options }: ActionApi): Promise<void> {
  const body = {
    human_id: options.human as string,
    label: options.label as string,
    rights: parseRights(options.rights as string),
    ...(options.expiresIn ? { expires_in: parseExpiresIn(options.expiresIn as string) } : {}),
  };
  const created = await client.post('/admin/v1/tokens', body);
  if (json) return printRecord(io, created, true);
  const { secret, ...token } = created;
  printRecord(io, token, false);
  io.out(`\nsecret (shown once; store it now):\n${String(secret)}\n`);
}

export function parseRights(list: string): AdminRight[] {
  const rights = list.split(',').map((right) => right.trim()).filter(Boolean);
  const unknown = rights.filter((right) => !(ADMIN_RIGHTS as readonly string[]).includes(right));
  if (rights.length === 0 || unknown.length > 0)
    throw new UsageError(`--rights: unknown right(s) ${unknown.join(', ') || '(none given)'}; known: ${ADMIN_RIGHTS.join(', ')}`);
  return rights as AdminRight[];
}

/** `30d` → seconds, as the API's `expires_in`. */
export function parseExpiresIn(text: string): number {
  try {
    const seconds = Math.ceil(parseDuration(text) / 1000);
    if (seconds >= 1) return seconds;
  } catch {
    // reported below
  }
  throw new UsageError('--expires-in: expected a positive duration such as 12h or 30d');
}
