/**
 * A rate limiter per key (client id, client address): GCRA, the "generic cell rate algorithm"
 * (ITU-T I.371), which is a token bucket kept as one number per key, the theoretical arrival time
 * (TAT) of the next request. `rate` requests per second on average, at most `burst` at once.
 *
 * Pure: the caller passes the time (milliseconds, any monotonic origin). Memory is bounded: keys
 * whose TAT has passed hold no state worth keeping and are swept every 10 s; beyond `maxKeys` the
 * least recently seen keys are forgotten (such a key starts again with a full burst, which only
 * ever errs towards letting a request through, never towards refusing one).
 *
 * `reserve` and `refund` let a caller count a request before its outcome is known (so concurrent
 * requests cannot all pass a check that only looks) and give the slot back when it turns out not
 * to count (a failure budget refunds successes).
 */
export interface RateLimitSettings {
  /** Sustained requests per second (fractions allowed: 0.5 = one every 2 s). */
  rate: number;
  /** Requests allowed at once after a quiet period (≥ 1). */
  burst: number;
  /** Most keys held at once. */
  maxKeys: number;
}

/** Allowed: `until` is when the slot it took is free again by itself (what `refund` may give back is what is left of it). */
export type RateDecision = { allowed: true; until: number } | { allowed: false; retryAfterMs: number };

export interface RateLimiter {
  /** Counts one request for `key` if the budget allows it; refuses without counting otherwise. */
  take(key: string, now: number): RateDecision;
  /**
   * Counts one request for `key` now, before its outcome is known. A refusal counts too: it holds
   * the key refused for one more interval, so a flood keeps it refused until it pauses for 1/rate s.
   */
  reserve(key: string, now: number): RateDecision;
  /**
   * Gives back what is left at `now` of a request counted until `until` (its decision's): the whole
   * slot at once, nothing once time has freed it (a no-op once the key has been forgotten).
   */
  refund(key: string, now: number, until: number): void;
  /** Whether one more request for `key` would be allowed, without counting it. */
  peek(key: string, now: number): RateDecision;
  /** How many requests for `key` would be allowed now, one after the other (`burst` for a key with no state). */
  headroom(key: string, now: number): number;
  /** Keys currently held (for tests and the memory bound). */
  size(): number;
}

/** How often a pass drops the keys whose budget has refilled (their state is the same as none). */
const SWEEP_EVERY_MS = 10_000;
/** Over `maxKeys`, the least recently seen keys are dropped down to this share, so evictions come in batches. */
const EVICT_TO = 0.9;
const EPSILON_MS = 1e-6;

export function createRateLimiter(settings: RateLimitSettings): RateLimiter {
  checkSettings(settings);
  const interval = 1000 / settings.rate;
  // How far ahead of now the TAT may run and still admit a request: burst − 1 intervals.
  const ahead = interval * (settings.burst - 1);
  // Insertion order = recency order: a touched key is deleted and re-inserted at the end.
  const tats = new Map<string, number>();
  let lastSweep = Number.NEGATIVE_INFINITY;

  const decide = (key: string, now: number): { next: number; decision: RateDecision } => {
    const tat = Math.max(tats.get(key) ?? now, now);
    const next = tat + interval;
    const excess = tat - now - ahead;
    // EPSILON_MS absorbs floating-point error in `interval` sums (1000 / 14 is not exact).
    if (excess <= EPSILON_MS) return { next, decision: { allowed: true, until: next } };
    return { next, decision: { allowed: false, retryAfterMs: excess } };
  };

  // Whole passes, never "look at the oldest few on every call": a Map walked from its start skips
  // every entry deleted since it was last compacted, so small repeated walks turn quadratic under
  // a flood. One pass per SWEEP_EVERY_MS or per (1 − EVICT_TO)·maxKeys new keys stays linear.
  const sweep = (now: number): void => {
    lastSweep = now;
    for (const [key, tat] of tats) if (tat <= now) tats.delete(key);
    let excess = tats.size - Math.floor(settings.maxKeys * EVICT_TO);
    if (tats.size <= settings.maxKeys || excess <= 0) return;
    for (const key of tats.keys()) {
      if (excess-- <= 0) break;
      tats.delete(key);
    }
  };

  const store = (key: string, tat: number, now: number): void => {
    tats.delete(key);
    tats.set(key, tat);
    if (tats.size > settings.maxKeys || now - lastSweep >= SWEEP_EVERY_MS) sweep(now);
  };

  return {
    take(key, now) {
      const { next, decision } = decide(key, now);
      if (decision.allowed) store(key, next, now);
      else if (now - lastSweep >= SWEEP_EVERY_MS) sweep(now);
      return decision;
    },
    reserve(key, now) {
      const { next, decision } = decide(key, now);
      // Refused: the next request fits only after a whole interval without any (never sooner than before).
      store(key, decision.allowed ? next : Math.max(next - interval, now + ahead + interval), now);
      return decision.allowed ? decision : { allowed: false, retryAfterMs: Math.max(decision.retryAfterMs, interval) };
    },
    refund(key, now, until) {
      const tat = tats.get(key);
      if (tat !== undefined) tats.set(key, Math.max(tat - Math.min(interval, Math.max(0, until - now)), now));
    },
    peek: (key, now) => decide(key, now).decision,
    headroom(key, now) {
      const tat = Math.max(tats.get(key) ?? now, now);
      return Math.max(0, Math.floor((now + ahead - tat + EPSILON_MS) / interval) + 1);
    },
    size: () => tats.size,
  };
}

/** RFC 9110 §10.2.3: `Retry-After` in whole seconds, at least 1 (0 would invite an immediate retry). */
export function retryAfterSeconds(retryAfterMs: number): number {
  return Math.max(1, Math.ceil(retryAfterMs / 1000));
}

function checkSettings({ rate, burst, maxKeys }: RateLimitSettings): void {
  if (!(rate > 0) || !Number.isFinite(rate)) throw new RangeError('rate must be a positive number');
  if (!Number.isInteger(burst) || burst < 1) throw new RangeError('burst must be an integer ≥ 1');
  if (!Number.isInteger(maxKeys) || maxKeys < 1) throw new RangeError('maxKeys must be an integer ≥ 1');
}
