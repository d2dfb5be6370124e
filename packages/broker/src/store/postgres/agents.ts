import { sql, type Kysely } from 'kysely';
import type { AgentRepository } from '../../ports/directory.ts';
import type { Database } from '../schema.ts';
import { agentFromJoinedRows, agentsWithLinks, createSqliteAgents } from '../sqlite/agents.ts';
import { coalescedReads } from './coalesced-reads.ts';
import { kyselyOnlyHandle } from './shared-adapters.ts';

/**
 * Reads, `setStatus` and `touch` are the shared conditional statements, but `get` (every client
 * authentication) is coalesced per event-loop turn (coalesced-reads.ts); `insert` is one transaction.
 */
export function createPostgresAgents(db: Kysely<Database>): AgentRepository {
  const shared = createSqliteAgents(kyselyOnlyHandle(db));
  const rowsOf = coalescedReads((ids) => agentsWithLinks(db).where('agents.id', '=', sql<string>`any(${ids}::text[])`).execute(), (row) => row.id);
  return {
    ...shared,
    get: async (id) => agentFromJoinedRows(await rowsOf(id)),
    /** The agent and its owner/approver links commit together or not at all. */
    insert: (agent) =>
      db.transaction().execute(async (trx) => {
        await trx.insertInto('agents').values({
          id: agent.id, name: agent.name, kind: agent.kind, status: agent.status, policy: agent.policy,
          jwk: JSON.stringify(agent.jwk), jwk_thumbprint: agent.jwkThumbprint, review_due_at: agent.reviewDueAt,
          created_at: agent.createdAt, last_seen_at: agent.lastSeenAt,
        }).execute();
        const links = [
          ...agent.owners.map((human_id, position) => ({ agent_id: agent.id, human_id, role: 'owner' as const, position })),
          ...agent.approvers.map((human_id, position) => ({ agent_id: agent.id, human_id, role: 'approver' as const, position })),
        ];
        if (links.length > 0) await trx.insertInto('agent_humans').values(links).execute();
      }),
  };
}
