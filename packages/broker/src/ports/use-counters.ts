/** Atomic counters for `maxUses` (PROTOCOL §5): decremented before a token is signed. */
export interface UseCounters {
  /** Creates `key` with `total` uses; fails if it exists. */
  create(key: string, total: number): Promise<void>;
  /**
   * Takes one use. Returns the uses left after taking it, or null when none was left or the key
   * is unknown (nothing is taken then).
   */
  take(key: string): Promise<number | null>;
  /**
   * Gives back one use taken for a token that was then never issued (its audit commit failed).
   * Never above the total; false for an unknown key or a full counter.
   */
  release(key: string): Promise<boolean>;
  /** Uses left, or null for an unknown key. */
  remaining(key: string): Promise<number | null>;
}
