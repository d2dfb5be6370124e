/**
 * Group commit's queue: the items enqueued in one event-loop turn reach `run` together, at most
 * `max` at a time (the rest in the next turn). `run` must settle every item it is given; a batch
 * runs while the next one collects.
 *
 * @example
 * const enqueue = turnBatcher<Pending>(256, async (batch) => commitTogether(batch));
 * enqueue({ work, resolve, reject });
 */
export function turnBatcher<T>(max: number, run: (batch: T[]) => Promise<void>): (item: T) => void {
  const queue: T[] = [];
  let scheduled = false;
  const schedule = () => {
    if (scheduled) return;
    scheduled = true;
    setImmediate(() => void flush());
  };
  const flush = async () => {
    scheduled = false;
    const batch = queue.splice(0, max);
    if (queue.length > 0) schedule();
    await run(batch);
  };
  return (item) => {
    queue.push(item);
    schedule();
  };
}
