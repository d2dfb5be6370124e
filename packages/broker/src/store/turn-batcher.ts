/** How batches may overlap. */
export interface TurnBatcherOptions<T> {
  /** The next batch starts only once the running one has finished (and takes everything that arrived meanwhile). */
  oneAtATime?: boolean;
  /** With `oneAtATime`: once every running batch has run this long, the next may start beside them. */
  overlapAfterMs?: number;
  /** With `overlapAfterMs`: at most this many batches at once (each holds a connection). Default 2. */
  maxRunning?: number;
  /**
   * When `run` throws instead of settling its items: given the batch and the error (`rejectEach`
   * rejects every item; one `run` settled already stays as it was). Without it the throw is an
   * unhandled rejection, which stops the process.
   */
  failed?: (batch: T[], error: unknown) => void;
}

/** `failed` for items that carry their own `reject`. */
export function rejectEach(batch: ReadonlyArray<{ reject: (error: unknown) => void }>, error: unknown): void {
  for (const item of batch) item.reject(error);
}

/**
 * Group commit's queue: the items enqueued in one event-loop turn reach `run` together, at most
 * `max` at a time (the rest in the next turn). `run` must settle every item it is given; a batch
 * runs while the next one collects (`failed` settles them if it throws). With `oneAtATime`, the next batch starts only once `run` has
 * finished the last one, and takes everything that arrived meanwhile; with `overlapAfterMs` too,
 * batches that have all run that long no longer hold the next one back, up to `maxRunning` at
 * once (a batch stuck on a lock another transaction holds would otherwise hold up every item
 * behind it; the bound keeps stuck batches from taking every pooled connection).
 *
 * @example
 * const enqueue = turnBatcher<Pending>(256, async (batch) => commitTogether(batch), { oneAtATime: true });
 * enqueue({ work, resolve, reject });
 */
export function turnBatcher<T>(max: number, run: (batch: T[]) => Promise<void>, options: TurnBatcherOptions<T> = {}): (item: T) => void {
  const { oneAtATime = false, overlapAfterMs = Infinity, maxRunning = 2, failed } = options;
  const queue: T[] = [];
  let scheduled = false;
  /** When each running batch started. */
  const running = new Set<{ startedAt: number }>();
  let overdue: NodeJS.Timeout | undefined;
  let overdueAt = Infinity;
  /** How long the next batch must still wait (Infinity: until a running batch finishes). */
  const wait = (): number => {
    if (!oneAtATime || running.size === 0) return 0;
    if (running.size >= maxRunning) return Infinity;
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
    const self = { startedAt: performance.now() };
    running.add(self);
    // Items beyond `max`: the next batch, now or once this one allows it.
    if (queue.length > 0) schedule();
    try {
      await run(batch);
    } catch (error) {
      if (!failed) throw error;
      failed(batch, error);
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
