import type { ExpressionBuilder, Kysely } from 'kysely';
import type { RevocationWrite } from '../ports/change-feed.ts';
import type { Database } from './schema.ts';
import { transitionStatement } from './mandate-rows.ts';
import { agentStatusStatement } from './sqlite/agents.ts';
import { disableHumanStatement } from './sqlite/humans.ts';

/**
 * The statements of one revocation (`ChangeFeed.commitRevocation`) as SQLite runs them,
 * synchronously under its write lock. PostgreSQL shares the state transition and the
 * credentials' filter, and has its own forms of the other two (postgres/change-feed.ts: the
 * credentials locked in jti order first, the cursor drawn under its lock). Each update is
 * conditional, so of two concurrent revocations exactly one applies (and publishes, and audits).
 */
export function revocationStatements(db: Kysely<Database>, write: RevocationWrite) {
  const { credentials, change } = write;
  return {
    transition: stateTransition(db, write),
    credentials: credentials
      ? db.updateTable('credentials').set({ revoked_at: change.at }).where(credentialFilter(db, credentials)).where('revoked_at', 'is', null)
      : null,
    change: change.publish === false ? null : db.insertInto('changes').values({ topic: change.topic, key: change.key, at: change.at }).returning('cursor'),
  };
}

/**
 * Whether the write names a row whose state it changes (a mandate, an agent or a human): then that
 * change decides whether the write applies, else whether it revoked any credential.
 */
export function changesState(write: RevocationWrite): boolean {
  const rows = [write.mandate, write.agent, write.human].filter((row) => row !== undefined).length;
  if (rows > 1) throw new Error('a revocation changes one mandate, agent or human at most');
  const stateful = rows === 1;
  // Tokens revoked without a change row would never reach resource servers (push) or replicas.
  if (!stateful && write.change.publish === false) throw new Error('a revocation of tokens alone must publish its change');
  return stateful;
}

/**
 * The mandate's, the agent's or the human's conditional transition, or null when the write names
 * none or no state it may leave (a stateful write then does not apply).
 */
export function stateTransition(db: Kysely<Database>, { mandate, agent, human }: RevocationWrite) {
  if (mandate) return mandate.from.length > 0 ? transitionStatement(db, mandate.id, mandate.from, mandate.patch) : null;
  if (human) return disableHumanStatement(db, human.id, human.at);
  return agent && agent.from.length > 0 ? agentStatusStatement(db, agent.id, agent.to, agent.from) : null;
}

/** The credentials a revocation names, as a `where` condition of both engines. */
export function credentialFilter(db: Kysely<Database>, which: NonNullable<RevocationWrite['credentials']>) {
  return (eb: ExpressionBuilder<Database, 'credentials'>) => {
    if ('jti' in which) return eb('jti', '=', which.jti);
    if ('mandateId' in which) return eb('mandate_id', '=', which.mandateId);
    if ('mandateTree' in which) return eb('mandate_id', 'in', mandateTree(db, which.mandateTree));
    return eb('agent_id', '=', which.agentId);
  };
}

/**
 * The ids of `rootId` and of every mandate delegated below it, at any depth (sub-grant hops).
 * `union`, not `union all`: an id already in the tree is not walked again, so even a corrupt store
 * with a cycle of parents ends the walk.
 */
function mandateTree(db: Kysely<Database>, rootId: string) {
  return db
    .withRecursive('tree(id)', (qb) => qb
      .selectFrom('mandates').select('mandates.id').where('mandates.id', '=', rootId)
      .union(qb.selectFrom('mandates').innerJoin('tree', 'tree.id', 'mandates.parent_mandate_id').select('mandates.id')))
    .selectFrom('tree')
    .select('tree.id');
}
