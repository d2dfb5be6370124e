import { sql, type Kysely } from 'kysely';
import pg from 'pg';
import type { ChainHashing } from '../../core/audit-chain.ts';
import type { ChangeFeed, CommittedRevocation, RevocationOutcome, RevocationWrite } from '../../ports/change-feed.ts';
import { createChangeHub, type ChangeHub, type PushChannel } from '../change-hub.ts';
import { changesState, credentialFilter, stateTransition } from '../revocation-writes.ts';
import type { Database } from '../schema.ts';
import { createSqliteChangeFeed } from '../sqlite/change-feed.ts';
import { appendInTransaction } from './audit-sink.ts';
import { clientConfig, type PostgresOptions } from './open.ts';
import { retried } from './retry.ts';

/** The NOTIFY channel replicas LISTEN on; the payload is the new cursor (a hint, never trusted). */
export const CHANGES_CHANNEL = 'mandate_changes';
const RECONNECT_MIN_MS = 500;
const RECONNECT_MAX_MS = 30_000;

const NOT_APPLIED: CommittedRevocation = { outcome: { applied: false, credentialsRevoked: 0, cursor: null }, records: [] };

/**
 * Draws the next cursor and NOTIFYs it, inside `trx` (see below for the lock), in one statement:
 * the insert selects from the lock's row, so the cursor is drawn only once the lock is held.
 */
async function insertChange(trx: Kysely<Database>, { topic, key, at }: RevocationWrite['change']): Promise<number> {
  const { rows } = await sql<{ cursor: number | string }>`
    with held as materialized (select pg_advisory_xact_lock(hashtext(${CHANGES_CHANNEL}))),
         drawn as (insert into changes (topic, key, at) select ${topic}::text, ${key}::text, ${at}::bigint from held returning cursor)
    select cursor, pg_notify(${CHANGES_CHANNEL}, cursor::text) from drawn`.execute(trx);
  return Number(rows[0]!.cursor);
}

/**
 * The credentials' update, their row locks taken first in one fixed order (jti) by the CTE: the
 * update's own scan order depends on the plan (by mandate, by agent), so a mandate's and an
 * agent's revocation over shared tokens could otherwise lock them crosswise (40P01).
 */
function revokeCredentialsInOrder(trx: Kysely<Database>, which: NonNullable<RevocationWrite['credentials']>, at: number) {
  return trx
    .with('locked', (db) => db.selectFrom('credentials').select('jti').where(credentialFilter(trx, which)).where('revoked_at', 'is', null).orderBy('jti').forUpdate())
    .updateTable('credentials').set({ revoked_at: at })
    .where('jti', 'in', (eb) => eb.selectFrom('locked').select('locked.jti'))
    .where('revoked_at', 'is', null);
}

/**
 * Cursors come from an identity sequence. A sequence alone does not make them visible in order
 * (cursor 6 may commit before 5, and a reader past 6 would never see 5), so publishers take one
 * transaction-scoped advisory lock: cursors are drawn and committed one publisher at a time.
 * Publishes are rare (revocations, rotations), so the lock costs nothing on the mint path.
 * NOTIFY inside the transaction is delivered on commit, and only then.
 *
 * Every subscription of this process shares one LISTEN connection (change-hub.ts), and a change
 * committed here wakes them at once, without waiting for its own notification to come back.
 */
export function createPostgresChangeFeed(db: Kysely<Database>, options: PostgresOptions, hashing: ChainHashing): ChangeFeed {
  const shared = createSqliteChangeFeed(db);
  const hub: ChangeHub = createChangeHub(shared, listenChannel(options, () => hub));
  return {
    ...shared,
    async publish(topic, key, at) {
      const cursor = await db.transaction().execute((trx) => insertChange(trx, { topic, key, at }));
      hub.wakeAll();
      return cursor;
    },
    subscribe: hub.subscribe,
    /**
     * The mandate's or the agent's row, the credentials (their status-list bits), the change row
     * with its NOTIFY and the audit events, in one transaction. Locks are taken in that order by
     * every revocation (the credentials by jti); the audit service's own appends lock only the
     * chain's head row, last here too. A mint batch locks its agents', mandates' and approvers' rows
     * `FOR SHARE`, then its status-list slots (which no revocation locks) and last its chain's head,
     * which a revocation too takes only after all its rows (its new credentials are not visible to
     * a revocation), so they cannot deadlock: whichever locks the agent's row first, the other
     * waits for its commit (a mint batch that comes second waits out the whole revocation, its other
     * agents' mints too).
     */
    async commitRevocation(write, audit, events) {
      const stateful = changesState(write);
      const committed = await retried(() => db.transaction().execute(async (trx): Promise<CommittedRevocation> => {
        const transition = stateTransition(trx, write);
        if (stateful && (!transition || Number((await transition.executeTakeFirst()).numUpdatedRows) !== 1)) return NOT_APPLIED;
        const credentialsRevoked = write.credentials ? Number((await revokeCredentialsInOrder(trx, write.credentials, write.change.at).executeTakeFirst()).numUpdatedRows) : 0;
        if (!stateful && credentialsRevoked === 0) return NOT_APPLIED;
        const outcome: RevocationOutcome = { applied: true, credentialsRevoked, cursor: write.change.publish === false ? null : await insertChange(trx, write.change) };
        const inputs = events(outcome);
        return { outcome, records: inputs.length > 0 ? await appendInTransaction(trx, { ...audit, hashing }, inputs) : [] };
      }));
      if (committed.outcome.cursor !== null) hub.wakeAll();
      return committed;
    },
  };
}

/** What the LISTEN channel needs of a `pg.Client` (a test passes fakes). */
export type ListenClient = Pick<pg.Client, 'connect' | 'query' | 'end' | 'on' | 'removeAllListeners'>;
export type ListenClientFactory = (config: pg.ClientConfig) => ListenClient;

/**
 * Ends a client that is no longer the current one. It keeps a no-op 'error' listener: pg can still
 * emit one while it closes, and an 'error' event nobody listens to would crash the process.
 */
async function retire(old: ListenClient): Promise<void> {
  old.removeAllListeners();
  old.on('error', () => undefined);
  await old.end().catch(() => undefined);
}

/**
 * The replica's one LISTEN connection, dedicated (a pooled one would be handed to other queries),
 * open while anything subscribes. When it drops, it reconnects with backoff and wakes every
 * subscriber, which re-reads the feed from its cursor (notifications may have been missed);
 * meanwhile each subscriber's polling fallback keeps delivering.
 */
export function listenChannel(options: PostgresOptions, hub: () => ChangeHub, makeClient: ListenClientFactory = (config) => new pg.Client(config)): PushChannel {
  let client: ListenClient | null = null;
  let open = false;
  let delay = RECONNECT_MIN_MS;
  let retry: NodeJS.Timeout | undefined;
  /** Only the current client's events count: a replaced client's late 'end' must not tear down its successor. */
  const reconnectLater = (from: ListenClient, error: Error) => {
    if (!open || retry || client !== from) return;
    hub().fail(error);
    void retire(from);
    client = null;
    retry = setTimeout(() => {
      retry = undefined;
      void connect();
    }, delay);
    retry.unref();
    delay = Math.min(delay * 2, RECONNECT_MAX_MS);
  };
  const connect = async () => {
    const next = makeClient(clientConfig(options));
    client = next;
    next.on('notification', () => client === next && hub().wakeAll());
    next.on('error', (error: Error) => reconnectLater(next, error));
    next.on('end', () => reconnectLater(next, new Error('change feed listener disconnected')));
    try {
      await next.connect();
      await next.query(`listen ${CHANGES_CHANNEL}`);
      if (!open || client !== next) return void (await retire(next));
      delay = RECONNECT_MIN_MS;
      hub().wakeAll();
    } catch (error) {
      reconnectLater(next, error instanceof Error ? error : new Error(String(error)));
    }
  };
  return {
    open() {
      open = true;
      delay = RECONNECT_MIN_MS;
      void connect();
    },
    async close() {
      open = false;
      clearTimeout(retry);
      retry = undefined;
      const current = client;
      client = null;
      if (current) await retire(current);
    },
  };
}
