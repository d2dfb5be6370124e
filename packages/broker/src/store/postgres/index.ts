import { sql } from 'kysely';
import type { ChainHashing } from '../../core/audit-chain.ts';
import type { Store } from '../../ports/store.ts';
import { nodeChainHashing } from '../chain-hashing.ts';
import { migrationProviderFor } from '../migrations/index.ts';
import { migrationStatus } from '../migrations/status.ts';
import { createSqliteAdminTokens } from '../sqlite/admin-tokens.ts';
import { createSqliteAttestationKeys } from '../sqlite/attestation-keys.ts';
import { createSqliteAttestations } from '../sqlite/attestations.ts';
import { createSqliteConsole } from '../sqlite/console.ts';
import { createSqliteFindings, createSqliteLifecycleFlags } from '../sqlite/findings.ts';
import { createSqliteKeyStore } from '../sqlite/key-store.ts';
import { createSqliteNotificationSink } from '../sqlite/notification-sink.ts';
import { createSqliteReviews } from '../sqlite/reviews.ts';
import { createSqliteSecrets } from '../sqlite/secrets.ts';
import { createSqliteSsfStreams } from '../sqlite/ssf-streams.ts';
import { createSqliteWebhookDeliveries } from '../sqlite/webhook-deliveries.ts';
import { createPostgresAgents } from './agents.ts';
import { ensureAuditPartitions } from './audit-partitions.ts';
import { createPostgresAuditSink } from './audit-sink.ts';
import { claimChainLock } from './chain-claim.ts';
import { createPostgresChangeFeed } from './change-feed.ts';
import { createPostgresCredentials } from './credentials.ts';
import { createPostgresHumans } from './humans.ts';
import { createGroupCommit } from './group-commit.ts';
import { createPostgresMandates } from './mandates.ts';
import { openPostgres, type PostgresHandle, type PostgresOptions } from './open.ts';
import { createPostgresReplayCache } from './replay-cache.ts';
import { createPostgresStatusLists } from './status-lists.ts';
import { createPostgresUseCounters } from './use-counters.ts';

export type { PostgresHandle, PostgresOptions } from './open.ts';

/** A `Store` on PostgreSQL; `raw` is the pool and Kysely instance, for diagnostics. */
export interface PostgresStore extends Store {
  raw: PostgresHandle;
}

/** Audit partitions are topped up daily, so a long-running replica never runs out of months. */
const PARTITION_CHECK_MS = 24 * 60 * 60 * 1000;

/**
 * Opens a bounded pool on `url` (and unless read-only, migrates) and builds every port on it.
 * Any number of stores, in any number of processes, may share one database: every atomicity rule
 * of the conformance suites holds across them (conditional updates, row locks, ON CONFLICT).
 *
 * Adapters that are plain Kysely are shared with SQLite (Kysely's dialect seam); the ones whose
 * atomicity needs locks or transactions are PostgreSQL's own (agents, credentials, mandates,
 * replay cache, use counters, status lists, audit sink, change feed).
 *
 * @example
 * const store = await createPostgresStore({ url: 'postgres://mandate@db.internal/mandate' });
 * await store.replay.checkAndInsert('dpop', jti, exp, now);
 * await store.close();
 */
export async function createPostgresStore(options: PostgresOptions, hashing: ChainHashing = nodeChainHashing): Promise<PostgresStore> {
  const handle = await openPostgres(options);
  const { db } = handle;
  const batch = createGroupCommit(db);
  const topUp = () => ensureAuditPartitions(db, Date.now()).catch(() => []);
  if (!options.readonly) await topUp();
  const partitions = setInterval(() => void topUp(), PARTITION_CHECK_MS);
  partitions.unref();
  return {
    humans: createPostgresHumans(db),
    agents: createPostgresAgents(db),
    adminTokens: createSqliteAdminTokens(db),
    keys: createSqliteKeyStore(db),
    replay: createPostgresReplayCache(db, batch),
    counters: createPostgresUseCounters(db, batch),
    changes: createPostgresChangeFeed(db, options, hashing),
    // One live process per audit chain (PROTOCOL §9): a second replica with the same audit.chain refuses to start.
    audit: { ...createPostgresAuditSink(db, hashing), claimChain: (chain, onError) => claimChainLock(options, chain, onError) },
    notifications: createSqliteNotificationSink(db),
    webhookDeliveries: createSqliteWebhookDeliveries(db),
    reviews: createSqliteReviews(db),
    mandates: createPostgresMandates(db),
    credentials: createPostgresCredentials(db, hashing),
    attestations: createSqliteAttestations(db),
    attestationKeys: createSqliteAttestationKeys(db),
    secrets: createSqliteSecrets(db),
    console: createSqliteConsole(db),
    findings: createSqliteFindings(db),
    lifecycleFlags: createSqliteLifecycleFlags(db),
    statusLists: createPostgresStatusLists(db),
    ssfStreams: createSqliteSsfStreams(db),
    raw: handle,
    ping: async () => void (await sql`select 1`.execute(db)),
    migrationStatus: () => migrationStatus(db, migrationProviderFor('postgres')),
    async close() {
      clearInterval(partitions);
      await db.destroy();
    },
  };
}
