/**
 * PostgreSQL only: how long after the broker's SIGKILL its audit chain's advisory lock is free
 * again (src/store/postgres/chain-claim.ts). A successor that started inside that window would
 * refuse to start ("chain is being written by another running replica"); the broker's own start-up
 * takes seconds, so the figure says how much margin there is.
 */
import pg from 'pg';

const LOCK_SQL = 'select pg_try_advisory_lock(hashtext($1), hashtext($2)) as claimed';

/** Tries the chain's lock until it is free (then lets it go); resolves with the attempts made. */
export async function chainLockFreeAfterKill(url: string, chain: string, timeoutMs = 10_000): Promise<{ attempts: number; ms: number }> {
  const started = performance.now();
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    for (let attempts = 1; ; attempts++) {
      const { rows } = await client.query<{ claimed: boolean }>(LOCK_SQL, ['mandate.audit_chain', chain]);
      if (rows[0]?.claimed) {
        await client.query('select pg_advisory_unlock_all()');
        return { attempts, ms: performance.now() - started };
      }
      if (performance.now() - started > timeoutMs) throw new Error(`audit chain ${chain} still locked ${timeoutMs} ms after the kill`);
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
  } finally {
    await client.end();
  }
}
