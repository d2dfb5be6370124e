import type { ChainHashing } from '../../core/audit-chain.ts';
import type { Store } from '../../ports/store.ts';
import { nodeChainHashing } from '../chain-hashing.ts';
import { createSqliteAdminTokens } from './admin-tokens.ts';
import { createSqliteAgents } from './agents.ts';
import { createSqliteAttestationKeys } from './attestation-keys.ts';
import { createSqliteAttestations } from './attestations.ts';
import { createSqliteAuditSink } from './audit-sink.ts';
import { createSqliteChangeFeed } from './change-feed.ts';
import { createSqliteCredentials } from './credentials.ts';
import { createSqliteFindings, createSqliteLifecycleFlags } from './findings.ts';
import { createSqliteHumans } from './humans.ts';
import { createSqliteKeyStore } from './key-store.ts';
import { createSqliteMandates } from './mandates.ts';
import { createSqliteNotificationSink } from './notification-sink.ts';
import { createSqliteReviews } from './reviews.ts';
import { createSqliteWebhookDeliveries } from './webhook-deliveries.ts';
import { openSqlite, scrubRewrittenPages, type SqliteHandle, type SqliteOptions } from './open.ts';
import { createSqliteReplayCache } from './replay-cache.ts';
import { createSqliteSecrets } from './secrets.ts';
import { createSqliteConsole } from './console.ts';
import { createSqliteSsfStreams } from './ssf-streams.ts';
import { createSqliteStatusLists } from './status-lists.ts';
import { createSqliteUseCounters } from './use-counters.ts';
import { sql } from 'kysely';
import { migrationProvider } from '../migrations/index.ts';
import { migrationStatus } from '../migrations/status.ts';

export type { SqliteHandle, SqliteOptions } from './open.ts';

/** A `Store` on SQLite; `raw` is the open handle, for diagnostics and `audit verify`. */
export interface SqliteStore extends Store {
  raw: SqliteHandle;
}

/**
 * Opens (and unless read-only, migrates) the database and builds every port on it. Several
 * stores may share one file, in one process or several; the ports' atomicity holds across them.
 *
 * @example
 * const store = await createSqliteStore({ path: 'mandate.db' });
 * await store.replay.checkAndInsert('dpop', jti, exp, now);
 * await store.close();
 */
export async function createSqliteStore(options: SqliteOptions, hashing: ChainHashing = nodeChainHashing): Promise<SqliteStore> {
  const handle = await openSqlite(options);
  const { db } = handle;
  return {
    humans: createSqliteHumans(db),
    agents: createSqliteAgents(handle),
    adminTokens: createSqliteAdminTokens(db),
    keys: createSqliteKeyStore(db),
    replay: createSqliteReplayCache(handle),
    counters: createSqliteUseCounters(handle),
    changes: createSqliteChangeFeed(db, { handle, hashing }),
    audit: createSqliteAuditSink(handle, hashing),
    notifications: createSqliteNotificationSink(db),
    webhookDeliveries: createSqliteWebhookDeliveries(db),
    reviews: createSqliteReviews(db),
    mandates: createSqliteMandates(handle),
    credentials: createSqliteCredentials(handle, hashing),
    attestations: createSqliteAttestations(db),
    attestationKeys: createSqliteAttestationKeys(db),
    secrets: createSqliteSecrets(db),
    console: createSqliteConsole(db),
    findings: createSqliteFindings(db),
    lifecycleFlags: createSqliteLifecycleFlags(db),
    statusLists: createSqliteStatusLists(handle),
    ssfStreams: createSqliteSsfStreams(db),
    raw: handle,
    ping: async () => void (await sql`select 1`.execute(db)),
    migrationStatus: () => migrationStatus(db, migrationProvider),
    scrubRewritten: async () => scrubRewrittenPages(handle.raw),
    close: () => db.destroy(),
  };
}
