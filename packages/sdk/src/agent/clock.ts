/**
 * Time as the agent client sees it. Injected so that tests and simulations can run CIBA polling
 * and token renewal without waiting in real time.
 *
 * @example
 * ```ts
 * let now = Date.now();
 * const clock: Clock = { now: () => now, sleep: async (ms) => void (now += ms) };
 * const agent = createAgentClient({ issuer, clientId, clientKey, clock });
 * ```
 */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Resolves after `ms`, or rejects with the signal's reason once it aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/** The system clock and `setTimeout`. */
export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise<void>((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const onAbort = () => {
        clearTimeout(timer);
        reject(signal?.reason);
      };
      const timer = setTimeout(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      signal?.addEventListener('abort', onAbort, { once: true });
    }),
};

export function epochSeconds(clock: Clock): number {
  return Math.floor(clock.now() / 1000);
}
