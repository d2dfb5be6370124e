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
  /**
   * True when `id` is recorded and not expired at `now`: a read, for refusing a replay early
   * (before a rate-limit budget is spent) when the id itself is recorded later, at the commit.
   */
  seen(namespace: string, id: string, now: number): Promise<boolean>;
  /** Deletes entries expired at `now`; returns how many. */
  purgeExpired(now: number): Promise<number>;
}

/**
 * A single-use id whose recording is left to the commit of what it authorises (the token's, see
 * `IssueWrite.singleUse`), so that one transaction records it and mints. `code` and `message` are
 * what a replay of it is refused with. `expiresAt` follows from the id's own token (its `exp` or
 * `iat`), so a replay carries the same one; a claim recorded at or after it is refused as a replay
 * (its first use could have been purged meanwhile), see `isSpent`.
 */
export interface ReplayClaim {
  namespace: string;
  id: string;
  /** Epoch ms, as in `checkAndInsert`. */
  expiresAt: number;
  code: ErrorCode;
  message: string;
}

/** A claim whose expiry has come can no longer be recorded safely: it counts as a replay. */
export const isSpent = (claim: ReplayClaim, now: number): boolean => claim.expiresAt <= now;
