import type { Expression, ExpressionBuilder, Kysely, Selectable, SqlBool } from 'kysely';
import type { Agent, AgentKind, AgentStatus, PublicJwk } from '../../core/model.ts';
import type { AgentRepository } from '../../ports/directory.ts';
import type { AgentHumansTable, AgentsTable, Database } from '../schema.ts';
import { prepared } from '../prepared.ts';
import type { SqliteHandle } from './open.ts';
import { transactImmediate } from './sync-transaction.ts';

type AgentRow = Selectable<AgentsTable>;
type LinkRow = Selectable<AgentHumansTable>;
type LinkFilter = (eb: ExpressionBuilder<Database, 'agent_humans'>) => Expression<SqlBool>;

/** An agent's conditional status change, for both engines: it applies only from `from` (non-empty), so of concurrent changes one wins. */
export function agentStatusStatement(db: Kysely<Database>, id: string, status: AgentStatus, from: readonly AgentStatus[]) {
  return db.updateTable('agents').set({ status }).where('id', '=', id).where('status', 'in', from);
}

/** An agent's row once per owner/approver link (once with nulls when it has none). */
export type JoinedAgentRow = AgentRow & { human_id: string | null; role: LinkRow['role'] | null; position: number | null };

/** Agents with their links, one row per link in link order: `get` adds its `where` (PostgreSQL's coalesced read too). */
export function agentsWithLinks(db: Kysely<Database>) {
  return db
    .selectFrom('agents')
    .leftJoin('agent_humans', 'agent_humans.agent_id', 'agents.id')
    .selectAll('agents')
    .select(['agent_humans.human_id', 'agent_humans.role', 'agent_humans.position'])
    .orderBy('agent_humans.position');
}

/** One agent from its joined rows (`agentsWithLinks`); null when there are none. */
export function agentFromJoinedRows(rows: readonly JoinedAgentRow[]): Agent | null {
  if (rows.length === 0) return null;
  const links = rows.flatMap(({ id, human_id, role, position }) => (human_id !== null && role !== null && position !== null ? [{ agent_id: id, human_id, role, position }] : []));
  return fromRow(rows[0]!, links);
}

export function createSqliteAgents(handle: SqliteHandle): AgentRepository {
  const { db } = handle;
  const agents = () => db.selectFrom('agents').selectAll().orderBy('created_at').orderBy('id');
  /** On every client authentication: the agent and its links in one query, compiled once (store/prepared.ts). */
  const byId = prepared<{ id: string }, JoinedAgentRow>((p) => agentsWithLinks(db).where('agents.id', '=', p('id')));
  return {
    insert: (agent) => transactImmediate(handle, (q) => {
      q.run(db.insertInto('agents').values(toRow(agent)));
      const links = [...toLinks(agent, 'owner'), ...toLinks(agent, 'approver')];
      if (links.length > 0) q.run(db.insertInto('agent_humans').values(links));
    }),
    get: async (id) => agentFromJoinedRows((await db.executeQuery(byId({ id }))).rows),
    getByName: async (name) => one(db, await agents().where('name', '=', name).executeTakeFirst()),
    list: async () => withHumans(db, await agents().execute()),
    async listByOwner(humanId) {
      const owned = db.selectFrom('agent_humans').select('agent_id').where('human_id', '=', humanId).where('role', '=', 'owner');
      const rows = await agents().where('id', 'in', owned).execute();
      return withHumans(db, rows, (eb) => eb('agent_id', 'in', owned));
    },
    async setStatus(id, status, from) {
      if (from.length === 0) return false;
      const result = await agentStatusStatement(db, id, status, from).executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },
    /** Never moves `lastSeenAt` backwards when replicas report out of order. */
    async touch(id, at) {
      await db
        .updateTable('agents')
        .set({ last_seen_at: at })
        .where('id', '=', id)
        .where('status', '=', 'active')
        .where((eb) => eb.or([eb('last_seen_at', 'is', null), eb('last_seen_at', '<', at)]))
        .execute();
    },
  };
}

async function one(db: Kysely<Database>, row: AgentRow | undefined): Promise<Agent | null> {
  if (!row) return null;
  const [agent] = await withHumans(db, [row], (eb) => eb('agent_id', '=', row.id));
  return agent ?? null;
}

/** Loads the owner/approver links that `filter` selects (all when absent) and attaches them. */
async function withHumans(db: Kysely<Database>, rows: AgentRow[], filter?: LinkFilter): Promise<Agent[]> {
  if (rows.length === 0) return [];
  let query = db.selectFrom('agent_humans').selectAll().orderBy('position');
  if (filter) query = query.where(filter);
  const links = await query.execute();
  return rows.map((row) => fromRow(row, links.filter((link) => link.agent_id === row.id)));
}

function toLinks(agent: Agent, role: LinkRow['role']): AgentHumansTable[] {
  const humans = role === 'owner' ? agent.owners : agent.approvers;
  return humans.map((humanId, position) => ({ agent_id: agent.id, human_id: humanId, role, position }));
}

function toRow(agent: Agent): AgentsTable {
  return {
    id: agent.id,
    name: agent.name,
    kind: agent.kind,
    status: agent.status,
    policy: agent.policy,
    jwk: JSON.stringify(agent.jwk),
    jwk_thumbprint: agent.jwkThumbprint,
    review_due_at: agent.reviewDueAt,
    created_at: agent.createdAt,
    last_seen_at: agent.lastSeenAt,
  };
}

function fromRow(row: AgentRow, links: LinkRow[]): Agent {
  const humansIn = (role: LinkRow['role']) => links.filter((l) => l.role === role).map((l) => l.human_id);
  return {
    id: row.id,
    name: row.name,
    kind: row.kind as AgentKind,
    status: row.status as AgentStatus,
    owners: humansIn('owner'),
    approvers: humansIn('approver'),
    policy: row.policy,
    jwk: JSON.parse(row.jwk) as PublicJwk,
    jwkThumbprint: row.jwk_thumbprint,
    reviewDueAt: row.review_due_at,
    createdAt: row.created_at,
    lastSeenAt: row.last_seen_at,
  };
}
