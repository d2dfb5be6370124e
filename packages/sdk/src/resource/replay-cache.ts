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
  const maxEntries = options.maxEntries ?? 100_000;
  const entries = new Map<string, number>();
  // Insertion order, oldest first from `head`, kept apart from the Map: sweeping by iterating the
  // Map from its start would walk over every entry deleted since its last rehash (V8 keeps them as
  // holes), tens of microseconds per insert once the cache is full.
  let order: { key: string; expiresAt: number }[] = [];
  let head = 0;
  const sweep = (nowSeconds: number) => {
    while (head < order.length) {
      const { key, expiresAt } = order[head]!;
      // An entry replaced since (its key expired and came back) is only a stale place in the order.
      if (entries.get(key) === expiresAt) {
        if (expiresAt > nowSeconds && entries.size < maxEntries) break;
        entries.delete(key);
      }
      head += 1;
    }
    if (head > 1024 && head * 2 > order.length) {
      order = order.slice(head);
      head = 0;
    }
  };
  return {
    checkAndInsert(key, expiresAt, nowSeconds) {
      if (!Number.isFinite(expiresAt)) throw new TypeError('expiresAt must be a finite number of epoch seconds');
      const seen = entries.get(key);
      if (seen !== undefined && seen > nowSeconds) return false;
      entries.delete(key);
      sweep(nowSeconds);
      entries.set(key, expiresAt);
      order.push({ key, expiresAt });
      return true;
    },
  };
}
