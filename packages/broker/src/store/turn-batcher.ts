/**
 * Group commit's queue: the items enqueued in one event-loop turn reach `run` together, at most
 * `max` at a time (the rest in the next turn). `run` must settle every item it is given; a batch
 * runs while the next one collects. With `oneAtATime`, the next batch starts only once `run` has
 * finished the last one, and takes everything that arrived meanwhile; with `overlapAfterMs` too, a
 * batch that has run that long no longer holds the next one back (a batch stuck on a lock another
 * transaction holds would otherwise hold up every item behind it).
 *
 * @example
 * const enqueue = turnBatcher<Pending>(256, async (batch) => commitTogether(batch));
 * enqueue({ work, resolve, reject });
 */
export function turnBatcher<T>(max: number, run: (batch: T[]) => Promise<void>, oneAtATime = false, overlapAfterMs = Infinity): (item: T) => void {
  const queue: T[] = [];
  let scheduled = false;
  /** When each running batch started. */
  const running = new Set<{ startedAt: number }>();
  let overdue: NodeJS.Timeout | undefined;
  let overdueAt = Infinity;
  /** How long the next batch must still wait: until the youngest running batch has run `overlapAfterMs`. */
  const wait = (): number => {
    if (!oneAtATime || running.size === 0) return 0;
    let youngest = -Infinity;
    for (const { startedAt } of running) youngest = Math.max(youngest, startedAt);
    return youngest + overlapAfterMs - performance.now();
  };
  const schedule = () => {
    if (scheduled) return;
    const ms = wait();
    if (ms > 0) {
      // Look again once the running batches are overdue, unless one finishes first (it schedules).
      const at = performance.now() + ms;
      if (ms !== Infinity && at < overdueAt) {
        clearTimeout(overdue);
        overdueAt = at;
        overdue = setTimeout(() => {
          overdueAt = Infinity;
          if (queue.length > 0) schedule();
        }, ms);
        overdue.unref();
      }
      return;
    }
    scheduled = true;
    setImmediate(() => void flush());
  };
  const flush = async () => {
    scheduled = false;
    const batch = queue.splice(0, max);
    if (!oneAtATime && queue.length > 0) schedule();
    const self = { startedAt: performance.now() };
    running.add(self);
    try {
      await run(batch);
    } finally {
      running.delete(self);
      if (queue.length > 0) schedule();
    }
  };
  return (item) => {
    queue.push(item);
    schedule();
  };
}
