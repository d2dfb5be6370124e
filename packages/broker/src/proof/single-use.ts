import { MandateError } from '../core/errors.ts';
import { isSpent, type ReplayCache, type ReplayClaim } from '../ports/replay-cache.ts';

const NOT_PLAIN = /[\u0000-\u001f\u007f\p{Cs}]/u;

/**
 * A `jti` a single-use id may be made of: no control character (PostgreSQL's text cannot hold a
 * NUL, which would fail every statement of a batch the id joins) and no lone surrogate (which
 * drivers replace, so the stored id would not be the one presented).
 */
export const isPlainJti = (jti: string): boolean => !NOT_PLAIN.test(jti);

/**
 * The single-use ids (client-assertion and DPoP `jti`s) one request presented, held back so that
 * the commit of the token they authorise records them (docs/audit.md "One commit per token"): one
 * transaction instead of one per id. A replay is then found at that commit, which stores nothing
 * else and refuses with the id's own error. Whatever the request does not hand to such a commit is
 * recorded by `recordNow`, before any other effect (the token endpoint's other grants) or before a
 * refusal is answered (docs/architecture.md "Requests").
 *
 * @example
 * const held = createHeldIds(store.replay);
 * await verifyDpop({ ...request, held });            // checks the proof; its jti waits in `held`
 * await commitIssue({ ...write, singleUse: held.pending() }, append, events); held.recorded();
 * await held.recordNow(clock.now());                  // nothing left: a no-op
 */
export interface HeldIds {
  add(claim: ReplayClaim): void;
  /** The ids not recorded yet. */
  pending(): readonly ReplayClaim[];
  /** A commit recorded `pending()` (whatever its outcome besides a throw). */
  recorded(): void;
  /** Records the pending ids, one check-and-insert each; the first replay throws its error. */
  recordNow(now: number): Promise<void>;
  /**
   * For a refused request: records the pending ids, and returns the error of the first one seen
   * before, which is then the answer (as it was when each id was recorded as it was checked, before
   * any later check). A failure to record leaves the refusal as it was.
   */
  recordRefused(now: number): Promise<MandateError | null>;
  /** The error of the first pending id recorded before (a read: nothing is recorded), else null. */
  replayedBefore(now: number): Promise<MandateError | null>;
}

export function createHeldIds(replay: ReplayCache): HeldIds {
  let held: ReplayClaim[] = [];
  return {
    add: (claim) => void held.push(claim),
    pending: () => held,
    recorded: () => void (held = []),
    async recordNow(now) {
      const replayed = await record(now);
      if (replayed) throw replayed;
    },
    recordRefused: (now) => record(now).catch(() => null),
    async replayedBefore(now) {
      for (const claim of held) if (await replay.seen(claim.namespace, claim.id, now)) return replayError(claim);
      return null;
    },
  };

  async function record(now: number): Promise<MandateError | null> {
    const claims = held;
    held = [];
    const fresh = await Promise.all(claims.map(async (c) => !isSpent(c, now) && (await replay.checkAndInsert(c.namespace, c.id, c.expiresAt, now))));
    const replayed = claims.find((_, i) => !fresh[i]);
    return replayed ? replayError(replayed) : null;
  }
}

/** Records `claim` at once, or leaves it to `held` when the request holds its ids back. */
export async function useOnce(replay: ReplayCache, claim: ReplayClaim, now: number, held: HeldIds | undefined): Promise<void> {
  if (held) return held.add(claim);
  if (!(await replay.checkAndInsert(claim.namespace, claim.id, claim.expiresAt, now))) throw replayError(claim);
}

/** The refusal of a replayed id: its own code and message. */
export const replayError = (claim: ReplayClaim): MandateError => new MandateError(claim.code, claim.message);
