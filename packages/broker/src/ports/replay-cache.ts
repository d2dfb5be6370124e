import type { ErrorCode } from '../core/errors.ts';

/**
 * Single-use identifiers (client-assertion `jti`, DPoP `jti`, challenge nonces). Shared by every
 * replica, so the check and the insert are one atomic step in the store.
 */
export interface ReplayCache {
  /**
   * Records `id` in `namespace` until `expiresAt` (epoch ms). Returns true when it was not seen
   * before (the caller may proceed), false when it is a replay. An entry whose expiry has passed
   * counts as unseen.
   */
  checkAndInsert(namespace: string, id: string, expiresAt: number, now: number): Promise<boolean>;
  /** Deletes entries expired at `now`; returns how many. */
  purgeExpired(now: number): Promise<number>;
}

/**
 * A single-use id whose recording is left to the commit of what it authorises (the token's, see
 * `IssueWrite.singleUse`), so that one transaction records it and mints. `code` and `message` are
 * what a replay of it is refused with.
 */
export interface ReplayClaim {
  namespace: string;
  id: string;
  /** Epoch ms, as in `checkAndInsert`. */
  expiresAt: number;
  code: ErrorCode;
  message: string;
}
