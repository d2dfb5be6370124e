import pg from 'pg';
import type { ChainClaim } from '../../ports/audit-sink.ts';
import { clientConfig, type PostgresOptions } from './open.ts';

const RETRY_MS = 5_000;

/**
 * PROTOCOL §9 on PostgreSQL: a replica holds a session advisory lock named after its audit chain
 * on a dedicated connection for as long as it runs. A second live replica configured with the
 * same `audit.chain` cannot take it and refuses to start, instead of silently sharing (and
 * serialising on) one chain. PostgreSQL drops the lock with the session, so a crashed replica
 * never blocks its successor. If the connection drops, the claim is retaken in the background;
 * `onError` reports the gap (appends stay correct meanwhile: the head row lock still orders them).
 */
export async function claimChainLock(options: PostgresOptions, chain: string, onError: (error: Error) => void = () => undefined): Promise<ChainClaim | null> {
  let closed = false;
  let client = await lockedClient(options, chain);
  if (!client) return null;
  let retry: NodeJS.Timeout | undefined;
  const reclaim = () => {
    if (closed || retry) return;
    retry = setTimeout(() => {
      retry = undefined;
      void lockedClient(options, chain).then(
        (next) => (closed ? void next?.end() : next ? watch((client = next)) : (onError(new Error(`audit chain ${chain} was claimed by another process`)), reclaim())),
        (error: Error) => (onError(error), reclaim()),
      );
    }, RETRY_MS);
    retry.unref();
  };
  const watch = (current: pg.Client) => {
    current.on('error', (error) => (onError(error), reclaim()));
    current.on('end', () => reclaim());
  };
  watch(client);
  return {
    async release() {
      closed = true;
      clearTimeout(retry);
      const current = client;
      client = null;
      current?.removeAllListeners();
      current?.on('error', () => undefined);
      // Unlocked before the session ends: a successor starting right away must not meet a backend still exiting.
      await current?.query('select pg_advisory_unlock_all()').catch(() => undefined);
      await current?.end().catch(() => undefined);
    },
  };
}

/** A connection holding the chain's lock, or null (closed again) when another session holds it. */
async function lockedClient(options: PostgresOptions, chain: string): Promise<pg.Client | null> {
  const client = new pg.Client(clientConfig({ ...options, readonly: false }));
  client.on('error', () => undefined);
  await client.connect();
  try {
    const result = await client.query<{ claimed: boolean }>('select pg_try_advisory_lock(hashtext($1), hashtext($2)) as claimed', ['mandate.audit_chain', chain]);
    if (result.rows[0]?.claimed) return client;
  } catch (error) {
    await client.end().catch(() => undefined);
    throw error;
  }
  await client.end().catch(() => undefined);
  return null;
}
