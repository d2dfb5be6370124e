import type { ReplayCache } from '../ports/replay-cache.ts';

/**
 * A one-process ReplayCache over a Map, for the benchmark and tests (the broker uses the store's,
 * shared by every replica).
 *
 * @example
 * const replay = createMemoryReplayCache();
 * await replay.checkAndInsert('k8s-sa-token', jti, expiresAt, Date.now()); // true, then false
 */
export function createMemoryReplayCache(): ReplayCache {
  const entries = new Map<string, number>();
  return {
    async checkAndInsert(namespace, id, expiresAt, now) {
      const key = `${namespace}\0${id}`;
      const seenUntil = entries.get(key);
      if (seenUntil !== undefined && seenUntil > now) return false;
      entries.set(key, expiresAt);
      return true;
    },
    seen: async (namespace, id, now) => (entries.get(`${namespace}\0${id}`) ?? -Infinity) > now,
    async purgeExpired(now) {
      let purged = 0;
      for (const [key, expiresAt] of entries) if (expiresAt <= now && entries.delete(key)) purged += 1;
      return purged;
    },
  };
}
