import type { Clock } from '../../ports/clock.ts';
import { BundleUnavailableError, parseBundle, type BundleLoader, type SpiffeBundle } from './bundle.ts';

/** One trust domain's bundle, kept in memory and refreshed at most once per interval. */
export interface BundleCache {
  /** The cached bundle; reloaded first when older than the refresh interval. */
  current(): Promise<SpiffeBundle>;
  /** For a `kid` the bundle does not hold (a key rotation): reloads, at most once per cooldown. */
  reloadForUnknownKey(): Promise<SpiffeBundle>;
}

export interface BundleCacheOptions {
  load: BundleLoader;
  clock: Clock;
  /** Configured refresh interval in ms; without it the bundle's refresh hint, else 5 min. */
  intervalMs?: number;
  /** A bundle already read at start-up (bundle files). */
  initial?: SpiffeBundle;
}

const DEFAULT_INTERVAL_MS = 300_000;
/** A publisher's hint is honoured within these bounds: no tighter polling loop, no key kept a day. */
const HINT_MIN_MS = 30_000;
const HINT_MAX_MS = 86_400_000;
/** After a failed load, and between reloads for unknown kids: a down or abused source is not hammered. */
const COOLDOWN_MS = 30_000;

/**
 * Builds the cache. Loads are single-flight; when a reload fails the last good bundle stays in
 * use (as SPIRE keeps federated bundles), so only a source never read is unavailable. A bundle
 * with a lower `spiffe_sequence` than the cached one is ignored (§4.1.1: it only increases).
 *
 * @example
 * const cache = createBundleCache({ load: endpointLoader(url), clock });
 * const bundle = await cache.current();
 */
export function createBundleCache(options: BundleCacheOptions): BundleCache {
  const { clock } = options;
  let bundle: SpiffeBundle | null = options.initial ?? null;
  let loadedAt = bundle === null ? -Infinity : clock.now();
  let failedAt = -Infinity;
  let inflight: Promise<SpiffeBundle> | null = null;

  const interval = () => options.intervalMs ?? clampHint(bundle?.refreshHintMs);
  const coolingDown = () => clock.now() - failedAt < COOLDOWN_MS;
  const reload = (): Promise<SpiffeBundle> =>
    (inflight ??= load().finally(() => {
      inflight = null;
    }));

  async function load(): Promise<SpiffeBundle> {
    try {
      const next = parseBundle(await options.load());
      if (bundle?.sequence === undefined || next.sequence === undefined || next.sequence >= bundle.sequence) bundle = next;
      loadedAt = clock.now();
    } catch (error) {
      failedAt = clock.now();
      if (bundle === null) throw error instanceof BundleUnavailableError ? error : new BundleUnavailableError(String(error));
    }
    return bundle as SpiffeBundle;
  }

  function fallback(): Promise<SpiffeBundle> {
    if (bundle !== null) return Promise.resolve(bundle);
    return Promise.reject(new BundleUnavailableError('the bundle could not be loaded recently; retrying later'));
  }

  return {
    current: () => (bundle !== null && clock.now() - loadedAt < interval() ? Promise.resolve(bundle) : coolingDown() ? fallback() : reload()),
    reloadForUnknownKey: () => (clock.now() - loadedAt < COOLDOWN_MS || coolingDown() ? fallback() : reload()),
  };
}

function clampHint(hintMs: number | undefined): number {
  return hintMs === undefined || hintMs === 0 ? DEFAULT_INTERVAL_MS : Math.min(Math.max(hintMs, HINT_MIN_MS), HINT_MAX_MS);
}
