import { ConfigError } from '../config/load.ts';
import type { ChainClaim } from '../ports/audit-sink.ts';
import type { Store } from '../ports/store.ts';

/**
 * PROTOCOL §9: one chain per replica. Where several processes share the store (PostgreSQL), this
 * process claims its `audit.chain` for as long as it runs; if another live replica holds it, the
 * store is closed and start fails with a config error naming `audit.chain`. Null where the store
 * has no claims (SQLite: one process per data directory).
 *
 * @example
 * const claim = await claimAuditChain(store, config.audit.chain, (e) => log(e.message));
 * // … on shutdown:
 * await claim?.release();
 */
export async function claimAuditChain(store: Pick<Store, 'audit' | 'close'>, chain: string, onError?: (error: Error) => void): Promise<ChainClaim | null> {
  if (!store.audit.claimChain) return null;
  let claim: ChainClaim | null;
  try {
    claim = await store.audit.claimChain(chain, onError);
  } catch (error) {
    await store.close();
    throw error;
  }
  if (claim) return claim;
  await store.close();
  throw new ConfigError([{ path: 'audit.chain', message: `chain "${chain}" is being written by another running replica: give each replica its own audit.chain (docs/deployment.md)` }]);
}
