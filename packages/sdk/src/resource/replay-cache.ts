import { ExpiringMap } from '../util/expiring-map.ts';

/**
 * Remembers DPoP proof `jti` values until they expire. Implement it over a shared store
 * (Redis `SET NX EX`, a SQL unique key) when several instances serve one audience.
 *
 * @example
 * ```ts
 * const replayCache: ReplayCache = {
 *   async checkAndInsert(key, expiresAt, now) {
 *     return (await redis.set(`dpop:${key}`, '1', { NX: true, EX: expiresAt - now })) === 'OK';
 *   },
 * };
 * ```
 */
export interface ReplayCache {
  /**
   * Records `key` until `expiresAt` (epoch seconds). Answers `true` if the key was new,
   * `false` if it was already recorded and has not expired.
   */
  checkAndInsert(key: string, expiresAt: number, nowSeconds: number): boolean | Promise<boolean>;
}

/**
 * An in-memory replay cache for one process, bounded to `maxEntries`. Expired entries are swept
 * from the oldest on every insert; when the cache is full of live entries the oldest is evicted,
 * so size it above (requests per second × proof lifetime) to keep every `jti` single-use.
 *
 * @example
 * ```ts
 * const verifier = createVerifier({ ...options, replayCache: createMemoryReplayCache({ maxEntries: 200_000 }) });
 * ```
 */
export function createMemoryReplayCache(options: { maxEntries?: number } = {}): ReplayCache {
  const entries = new ExpiringMap<{ until: number }>(options.maxEntries ?? 100_000);
  return {
    checkAndInsert(key, expiresAt, nowSeconds) {
      if (!Number.isFinite(expiresAt)) throw new TypeError('expiresAt must be a finite number of epoch seconds');
      if (entries.live(key, nowSeconds)) return false;
      entries.set(key, { until: expiresAt }, nowSeconds);
      return true;
    },
  };
}
