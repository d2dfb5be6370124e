import { ExpiringMap } from '@mandate/sdk/expiring-map';
import type { Mandate } from '../core/mandate.ts';
import type { Agent } from '../core/model.ts';
import type { ChangeSubscription } from '../ports/change-feed.ts';
import type { Clock } from '../ports/clock.ts';
import type { AgentRepository } from '../ports/directory.ts';
import type { Store } from '../ports/store.ts';

/** How long an entry is served without a read: a backstop, since every change on the feed empties the caches. */
export const READ_CACHE_TTL_MS = 60_000;
/** Entries per cache at most; beyond, the oldest goes. */
export const READ_CACHE_MAX_ENTRIES = 10_000;

export interface ReadCache<T> {
  get(key: string): Promise<T | null>;
  /** Changes a held entry in place (a write this replica made); a missing one stays missing. */
  update(key: string, change: (value: T) => T): void;
  /** Forgets every entry, and every read still under way (it cannot have seen what the caller learnt). */
  clear(): void;
  /** Forgets the entry of `key`, and every read still under way (as `clear`, for one key). */
  forget(key: string): void;
  size(): number;
}

export interface ReadCacheOptions<T> {
  /** Whether a value read may be kept; the others are read again each time. */
  keep(value: T): boolean;
  now(): number;
  ttlMs?: number;
  maxEntries?: number;
}

/**
 * A bounded in-memory cache in front of `read` (an `ExpiringMap`: at most `maxEntries`, the oldest
 * forgotten first). Null is never kept, nor a value `keep` refuses. A read that started before a
 * `clear()` does not fill the cache when it ends: its row may predate the change that caused the
 * clear.
 */
export function createReadCache<T>(read: (key: string) => Promise<T | null>, options: ReadCacheOptions<T>): ReadCache<T> {
  const ttlMs = options.ttlMs ?? READ_CACHE_TTL_MS;
  const maxEntries = options.maxEntries ?? READ_CACHE_MAX_ENTRIES;
  let entries = new ExpiringMap<{ value: T; until: number }>(maxEntries);
  let generation = 0;
  return {
    async get(key) {
      const held = entries.live(key, options.now());
      if (held) return held.value;
      const started = generation;
      const value = await read(key);
      const now = options.now();
      if (value !== null && started === generation && options.keep(value)) entries.set(key, { value, until: now + ttlMs }, now);
      return value;
    },
    update(key, change) {
      const held = entries.live(key, options.now());
      if (held) held.value = change(held.value);
    },
    clear() {
      generation++;
      entries = new ExpiringMap(maxEntries);
    },
    forget(key) {
      generation++;
      entries.delete(key);
    },
    size: () => entries.size,
  };
}

export interface HotReads {
  /** For client authentication of a request whose token's commit checks the agent again (proof/client-assertion.ts). */
  agents: Pick<AgentRepository, 'get' | 'touch'>;
  /** For the token exchange of a mandate grant, whose token's commit checks the mandate again (services/mint.ts). */
  mandateByGrantHash(hash: string): Promise<Mandate | null>;
  /** Forgets both caches: a token's commit found a row they may hold no longer live (a change the feed never announced). */
  clear(): void;
  /** Forgets the mandate of one grant: it was used up here (a change the feed does not carry); the agents stay. */
  forgetMandate(grantHash: string): void;
  sizes(): { agents: number; mandates: number };
  /** The change-feed subscription that empties the caches. */
  subscription: ChangeSubscription;
}

export interface HotReadOptions {
  clock: Clock;
  /** The change feed's polling bound (config `store.pollInterval`): a change lost by LISTEN/NOTIFY, or written into a SQLite file by another process, still empties the caches within it. */
  pollIntervalMs: number;
  onError?: (error: Error) => void;
}

/**
 * The two reads every token request makes (docs/deployment.md "Active agents and mandates in
 * memory"): the client's agent and the grant's mandate, kept in memory while active, on either
 * store. Any change on the feed (a revocation, a suspension, a retirement, from any replica)
 * empties both. Until it arrives a replica may still find a just-suspended agent or revoked mandate
 * active here, which is why only requests whose token's commit checks them again under a lock
 * (the agent active, the mandate live, the approver not disabled: store `commitIssue`) read here:
 * no token is ever issued from a stale entry. A commit that finds one empties both caches
 * (`LoopDeps.forgetReads`); a mandate used up here, a change the feed does not carry, forgets its
 * own entry (`LoopDeps.forgetMandate`).
 */
export async function cacheHotReads(store: Store, options: HotReadOptions): Promise<HotReads> {
  const now = () => options.clock.now();
  const agents = createReadCache((id) => store.agents.get(id), { keep: (agent: Agent) => agent.status === 'active', now });
  const mandates = createReadCache((hash) => store.mandates.getByGrantHash(hash), { keep: (mandate: Mandate) => mandate.status === 'active', now });
  const clear = () => {
    agents.clear();
    mandates.clear();
  };
  if (!store.changes.subscribe) throw new Error('keeping agents and mandates in memory needs a change feed that empties them');
  // From the feed's newest cursor before any read here: a change committed after it is delivered,
  // and one committed before it is seen by every read.
  const from = await store.changes.latest();
  const subscription = store.changes.subscribe(clear, { from, pollIntervalMs: options.pollIntervalMs, ...(options.onError ? { onError: options.onError } : {}) });
  return {
    agents: {
      get: (id) => agents.get(id),
      async touch(id, at) {
        await store.agents.touch(id, at);
        agents.update(id, (agent) => ({ ...agent, lastSeenAt: Math.max(agent.lastSeenAt ?? 0, at) }));
      },
    },
    mandateByGrantHash: (hash) => mandates.get(hash),
    clear,
    forgetMandate: (grantHash) => mandates.forget(grantHash),
    sizes: () => ({ agents: agents.size(), mandates: mandates.size() }),
    subscription,
  };
}
