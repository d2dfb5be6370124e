import type { Random } from '../ports/random.ts';
import { LIFECYCLE_ACTOR, type LifecycleService } from './lifecycle.ts';

export interface LifecycleJob {
  stop(): void;
}

/**
 * The periodic lifecycle check of `mandate serve`: every `intervalMs` (0 = off), never two runs at
 * once, unref'ed so it never keeps the process alive. A failing run is reported and retried at the
 * next tick. Each run has its own request id, so its audit events group together.
 */
export function startLifecycleJob(service: Pick<LifecycleService, 'run'>, intervalMs: number, random: Random, onError: (error: Error) => void): LifecycleJob {
  if (intervalMs <= 0) return { stop: () => undefined };
  let running = false;
  const tick = async () => {
    if (running) return;
    running = true;
    try {
      await service.run({ apply: true }, { actor: LIFECYCLE_ACTOR, requestId: `req_${random.base64url(16)}` });
    } catch (error) {
      onError(error as Error);
    } finally {
      running = false;
    }
  };
  const timer = setInterval(() => void tick(), intervalMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
