import type { ChangeFeed, ChangeSubscription } from '../ports/change-feed.ts';
import type { Clock } from '../ports/clock.ts';
import type { KeyService } from './key-service.ts';

/** The change-feed topic of a signing-key rotation; the key is the new kid. */
export const KEY_ROTATED = 'key.rotated';

export interface KeySyncOptions {
  /** Read at call time: the composition root may wrap the feed after this is built. */
  feed: () => ChangeFeed;
  clock: Clock;
  /** The change feed's polling bound (config `store.pollInterval`). */
  pollIntervalMs: number;
  onError?: (error: Error) => void;
}

/**
 * Replicas share signing keys through the store but hold them in memory. A rotation on one replica
 * is published on the change feed, and every replica (itself included) reloads its keys when it
 * sees it: through LISTEN/NOTIFY within milliseconds, at worst after `pollIntervalMs`. Since a new
 * key is only published for `keys.activationDelay` (90 s by default) before it signs, keeping the
 * polling bound below that delay means no replica meets a token signed with a key it does not know.
 */
export function syncKeysAcrossReplicas(keys: KeyService, options: KeySyncOptions): { keys: KeyService; subscription: ChangeSubscription | null } {
  const synced: KeyService = {
    ...keys,
    async rotate() {
      const record = await keys.rotate();
      await options.feed().publish(KEY_ROTATED, record.kid, options.clock.now());
      return record;
    },
  };
  const feed = options.feed();
  const subscription = feed.subscribe
    ? feed.subscribe((change) => (change.topic === KEY_ROTATED ? keys.reload() : undefined), {
        pollIntervalMs: options.pollIntervalMs,
        ...(options.onError ? { onError: options.onError } : {}),
      })
    : null;
  return { keys: synced, subscription };
}
