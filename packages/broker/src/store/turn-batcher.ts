/**
 * Group commit's queue: the items enqueued in one event-loop turn reach `run` together, at most
 * `max` at a time (the rest in the next turn). `run` must settle every item it is given; a batch
 * runs while the next one collects. With `oneAtATime`, the next batch starts only once `run` has
 * finished the last one, and takes everything that arrived meanwhile.
 *
 * @example
 * const enqueue = turnBatcher<Pending>(256, async (batch) => commitTogether(batch));
 * enqueue({ work, resolve, reject });
 */
export function turnBatcher<T>(max: number, run: (batch: T[]) => Promise<void>, oneAtATime = false): (item: T) => void {
  const queue: T[] = [];
  let scheduled = false;
  let running = false;
  const schedule = () => {
    if (scheduled || (oneAtATime && running)) return;
    scheduled = true;
    setImmediate(() => void flush());
  };
  const flush = async () => {
    scheduled = false;
    const batch = queue.splice(0, max);
    if (!oneAtATime && queue.length > 0) schedule();
    running = true;
    try {
      await run(batch);
    } finally {
      running = false;
      if (queue.length > 0) schedule();
    }
  };
  return (item) => {
    queue.push(item);
    schedule();
  };
}
