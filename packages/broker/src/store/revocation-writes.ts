import type { Kysely } from 'kysely';
import type { RevocationWrite } from '../ports/change-feed.ts';
import type { Database } from './schema.ts';
import { transitionStatement } from './mandate-rows.ts';

/**
 * The statements of one revocation (`ChangeFeed.commitRevocation`) as SQLite runs them,
 * synchronously under its write lock. PostgreSQL shares the mandate's transition and the
 * credentials' filter, and has its own forms of the other two (postgres/change-feed.ts: the
 * credentials locked in jti order first, the cursor drawn under its lock). Each update is
 * conditional, so of two concurrent revocations exactly one applies (and publishes, and audits).
 */
export function revocationStatements(db: Kysely<Database>, write: RevocationWrite) {
  const { credentials, change } = write;
  return {
    mandate: mandateTransition(db, write),
    credentials: credentials
      ? db.updateTable('credentials').set({ revoked_at: change.at }).where(...credentialFilter(credentials)).where('revoked_at', 'is', null)
      : null,
    change: db.insertInto('changes').values({ topic: change.topic, key: change.key, at: change.at }).returning('cursor'),
  };
}

/** The mandate's conditional transition, or null when the write names no mandate or no state it may leave. */
export function mandateTransition(db: Kysely<Database>, { mandate }: RevocationWrite) {
  return mandate && mandate.from.length > 0 ? transitionStatement(db, mandate.id, mandate.from, mandate.patch) : null;
}

export function credentialFilter(which: NonNullable<RevocationWrite['credentials']>): ['jti' | 'mandate_id' | 'agent_id', '=', string] {
  if ('jti' in which) return ['jti', '=', which.jti];
  if ('mandateId' in which) return ['mandate_id', '=', which.mandateId];
  return ['agent_id', '=', which.agentId];
}
