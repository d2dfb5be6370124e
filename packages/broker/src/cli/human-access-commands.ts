import type { Command } from 'commander';
import { UsageError, type AdminClient } from './admin-client.ts';
import { adminAction, leaf, printRecord } from './cli-output.ts';

/** A human id as given, or the id of the one human with this exact name. */
async function resolveHuman(client: AdminClient, nameOrId: string): Promise<string> {
  if (/^usr_[A-Za-z0-9_-]{22}$/.test(nameOrId)) return nameOrId;
  const humans = (await client.get('/admin/v1/humans')).humans as Array<{ id: string; name: string; status: string }>;
  const matches = humans.filter((h) => h.name === nameOrId && h.status === 'active');
  if (matches.length === 0) throw new UsageError(`no active human is named "${nameOrId}"`);
  if (matches.length > 1) throw new UsageError(`${matches.length} humans are named "${nameOrId}": give the id (${matches.map((h) => h.id).join(', ')})`);
  return matches[0]!.id;
}

/** `mandate human invite` and `mandate human roles`: console access (docs/console.md). */
export function registerHumanAccessCommands(human: Command): void {
  leaf(human, 'invite <name-or-id>', 'Create a one-time passkey enrolment link for the console (shown once)')
    .action(adminAction(async ({ client, io, json, args }) => {
      const id = await resolveHuman(client, args[0]!);
      printRecord(io, await client.post(`/admin/v1/humans/${encodeURIComponent(id)}/invites`), json);
    }));
  leaf(human, 'roles <name-or-id> [roles...]', 'Show a human\'s console roles, or replace them (admin, owner, approver, auditor; "none" clears)')
    .action(adminAction(async ({ client, io, json, args }) => {
      const id = encodeURIComponent(await resolveHuman(client, args[0]!));
      const roles = (args[1] as unknown as string[] | undefined) ?? [];
      const result = roles.length === 0
        ? await client.get(`/admin/v1/humans/${id}/roles`)
        : await client.post(`/admin/v1/humans/${id}/roles`, { roles: roles.filter((role) => role !== 'none') });
      printRecord(io, result, json);
    }));
}
