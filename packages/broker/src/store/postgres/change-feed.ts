import { sql, type Kysely } from 'kysely';
import pg from 'pg';
import type { ChangeFeed, ChangeSubscription } from '../../ports/change-feed.ts';
import { DEFAULT_POLL_INTERVAL_MS, pollChanges, type PollingSubscription } from '../change-subscription.ts';
import type { Database } from '../schema.ts';
import { createSqliteChangeFeed } from '../sqlite/change-feed.ts';
import { clientConfig, type PostgresOptions } from './open.ts';

/** The NOTIFY channel replicas LISTEN on; the payload is the new cursor (a hint, never trusted). */
export const CHANGES_CHANNEL = 'mandate_changes';
const RECONNECT_MIN_MS = 500;
const RECONNECT_MAX_MS = 30_000;

/**
 * Cursors come from an identity sequence. A sequence alone does not make them visible in order
 * (cursor 6 may commit before 5, and a reader past 6 would never see 5), so publishers take one
 * transaction-scoped advisory lock: cursors are drawn and committed one publisher at a time.
 * Publishes are rare (revocations, rotations), so the lock costs nothing on the mint path.
 * NOTIFY inside the transaction is delivered on commit, and only then.
 */
export function createPostgresChangeFeed(db: Kysely<Database>, options: PostgresOptions): ChangeFeed {
  const shared = createSqliteChangeFeed(db);
  return {
    ...shared,
    publish: (topic, key, at) =>
      db.transaction().execute(async (trx) => {
        await sql`select pg_advisory_xact_lock(hashtext(${CHANGES_CHANNEL}))`.execute(trx);
        const row = await trx.insertInto('changes').values({ topic, key, at }).returning('cursor').executeTakeFirstOrThrow();
        await sql`select pg_notify(${CHANGES_CHANNEL}, ${String(row.cursor)})`.execute(trx);
        return row.cursor;
      }),
    subscribe(listener, subscribeOptions = {}) {
      const polling = pollChanges(shared, listener, { intervalMs: subscribeOptions.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS, ...subscribeOptions });
      return listenForChanges(options, polling, subscribeOptions.onError);
    },
  };
}

/**
 * LISTEN on a dedicated connection (a pooled one would be handed to other queries). When the
 * connection drops, it reconnects with backoff and reads once (it may have missed notifications);
 * meanwhile the polling fallback keeps delivering.
 */
function listenForChanges(options: PostgresOptions, polling: PollingSubscription, onError?: (error: Error) => void): ChangeSubscription {
  let client: pg.Client | null = null;
  let closed = false;
  let delay = RECONNECT_MIN_MS;
  let retry: NodeJS.Timeout | undefined;
  const reconnectLater = (error: Error) => {
    if (closed || retry) return;
    onError?.(error);
    client?.removeAllListeners();
    void client?.end().catch(() => undefined);
    client = null;
    retry = setTimeout(() => {
      retry = undefined;
      void connect();
    }, delay);
    retry.unref();
    delay = Math.min(delay * 2, RECONNECT_MAX_MS);
  };
  const connect = async () => {
    const next = new pg.Client(clientConfig(options));
    client = next;
    next.on('notification', () => polling.wake());
    next.on('error', reconnectLater);
    next.on('end', () => reconnectLater(new Error('change feed listener disconnected')));
    try {
      await next.connect();
      await next.query(`listen ${CHANGES_CHANNEL}`);
      if (closed) return void (await next.end());
      delay = RECONNECT_MIN_MS;
      polling.wake();
    } catch (error) {
      reconnectLater(error instanceof Error ? error : new Error(String(error)));
    }
  };
  void connect();
  return {
    async close() {
      closed = true;
      clearTimeout(retry);
      const current = client;
      client = null;
      current?.removeAllListeners();
      await current?.end().catch(() => undefined);
      await polling.close();
    },
  };
}
