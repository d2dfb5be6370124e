import type { Kysely } from 'kysely';
import type { RevocationWrite } from '../ports/change-feed.ts';
import type { Database } from './schema.ts';
import { transitionStatement } from './mandate-rows.ts';

/**
 * The statements of one revocation (`ChangeFeed.commitRevocation`): SQLite runs them synchronously
 * under its write lock. PostgreSQL runs the mandate's transition from here and its own forms of the
 * other two (postgres/change-feed.ts: the credentials locked in jti order first, the cursor drawn
 * under its lock); its credentials statement uses `credentialFilter` too. Each update is conditional, so of two
 * concurrent revocations exactly one applies (and publishes, and audits).
 */
export function revocationStatements(db: Kysely<Database>, write: RevocationWrite) {
  const { mandate, credentials, change } = write;
  return {
    mandate: mandate && mandate.from.length > 0
      ? transitionStatement(db, mandate.id, mandate.from, mandate.patch)
      : null,
    credentials: credentials
      ? db.updateTable('credentials').set({ revoked_at: change.at }).where(...credentialFilter(credentials)).where('revoked_at', 'is', null)
      : null,
    change: db.insertInto('changes').values({ topic: change.topic, key: change.key, at: change.at }).returning('cursor'),
  };
}

export function credentialFilter(which: NonNullable<RevocationWrite['credentials']>): ['jti' | 'mandate_id' | 'agent_id', '=', string] {
  if ('jti' in which) return ['jti', '=', which.jti];
  if ('mandateId' in which) return ['mandate_id', '=', which.mandateId];
  return ['agent_id', '=', which.agentId];
}
