import type { Command } from 'commander';
import { adminAction, leaf, printRecord, printTable } from './cli-output.ts';

const KEY_COLUMNS = ['kid', 'alg', 'state', 'activates_at', 'retires_at'];

/** `mandate keys list|rotate`: broker signing keys, through the admin API. */
export function registerKeysCommands(program: Command): void {
  const keys = program.command('keys').description('Broker signing keys');
  leaf(keys, 'list', 'List signing keys (metadata only)').action(adminAction(async ({ client, io, json }) => {
    printTable(io, (await client.get('/admin/v1/keys')).keys as Record<string, unknown>[], KEY_COLUMNS, json);
  }));
  leaf(keys, 'rotate', 'Create a new signing key; it is published before it signs').action(adminAction(async ({ client, io, json }) => {
    printRecord(io, await client.post('/admin/v1/keys/rotate'), json);
  }));
}
