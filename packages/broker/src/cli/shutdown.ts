import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import type { ServingState } from '../http/ops/serving.ts';

export interface ShutdownTarget {
  http: Pick<FastifyInstance, 'server'> & { log: FastifyBaseLogger };
  serving: ServingState;
  /** Stops accepting, waits for in-flight requests, then closes the store (App.close). */
  close(): Promise<void>;
}

export interface ShutdownOptions {
  /** How long in-flight requests may take before their connections are cut (`server.shutdownGrace`). */
  graceMs: number;
  exit: (code: number) => void;
}

/** Exit code when a second signal cuts the drain short. */
export const FORCED_EXIT_CODE = 1;
/** After `stopped`, the process exits even if a stray handle would keep it alive. */
const EXIT_AFTER_STOP_MS = 1000;

/**
 * Graceful shutdown (docs/operations.md): the first SIGTERM/SIGINT marks the process not ready,
 * stops accepting connections and lets in-flight requests finish for up to `graceMs`, then cuts
 * the remaining connections and closes the store; a second signal exits at once. One JSON log
 * line per phase: `draining`, `grace_expired` (only if it did), `stopped` or `forced`.
 *
 * @example
 * const onSignal = createShutdown(app, { graceMs: config.server.shutdownGrace, exit: process.exit });
 * process.on('SIGTERM', onSignal);
 */
export function createShutdown(target: ShutdownTarget, options: ShutdownOptions): (signal: NodeJS.Signals) => void {
  const log = target.http.log;
  let started = false;
  return (signal) => {
    if (started) {
      log.warn({ phase: 'forced', signal, in_flight: target.serving.inFlight }, 'shutdown');
      return options.exit(FORCED_EXIT_CODE);
    }
    started = true;
    void drain(target, options, signal);
  };
}

async function drain(target: ShutdownTarget, options: ShutdownOptions, signal: NodeJS.Signals): Promise<void> {
  const log = target.http.log;
  const startedAt = Date.now();
  log.info({ phase: 'draining', signal, in_flight: target.serving.inFlight, grace_ms: options.graceMs }, 'shutdown');
  target.serving.markDraining();
  let graceExpired = false;
  const grace = setTimeout(() => {
    graceExpired = true;
    log.warn({ phase: 'grace_expired', in_flight: target.serving.inFlight }, 'shutdown');
    target.http.server.closeAllConnections();
  }, options.graceMs);
  try {
    await target.close();
  } catch (error) {
    log.error({ phase: 'close_failed', err: error }, 'shutdown');
  } finally {
    clearTimeout(grace);
  }
  log.info({ phase: 'stopped', grace_expired: graceExpired, duration_ms: Date.now() - startedAt }, 'shutdown');
  setTimeout(() => options.exit(0), EXIT_AFTER_STOP_MS).unref();
}
