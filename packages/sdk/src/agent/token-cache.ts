import type { Clock } from './clock.ts';
import type { TokenSet } from './tokens.ts';

export interface TokenCache {
  /** A token for `resource` that is not due for renewal, renewing it first when it is. */
  get(resource: string): Promise<TokenSet>;
  put(tokens: TokenSet): void;
  /** Every token held, due or not. */
  all(): TokenSet[];
  delete(resource: string): void;
  clear(): void;
}

/**
 * Access tokens by resource. A token is renewed `renewBeforeMs` before it expires (at most half
 * its lifetime before), lazily on the next `get`: no timers keep the process alive. Concurrent
 * callers share one renewal.
 */
export function createTokenCache(deps: { clock: Clock; renewBeforeMs: number; renew: (resource: string) => Promise<TokenSet> }): TokenCache {
  const tokens = new Map<string, { tokens: TokenSet; renewAt: number }>();
  const inFlight = new Map<string, Promise<TokenSet>>();

  const put = (set: TokenSet) => {
    const lead = Math.min(deps.renewBeforeMs, (set.expiresIn * 1000) / 2);
    tokens.set(set.resource, { tokens: set, renewAt: set.expiresAt - lead });
  };

  const renew = (resource: string): Promise<TokenSet> => {
    const pending = inFlight.get(resource);
    if (pending) return pending;
    const promise = deps
      .renew(resource)
      .then((set) => {
        put(set);
        return set;
      })
      .finally(() => inFlight.delete(resource));
    inFlight.set(resource, promise);
    return promise;
  };

  return {
    async get(resource) {
      const entry = tokens.get(resource);
      if (entry && deps.clock.now() < entry.renewAt) return entry.tokens;
      return renew(resource);
    },
    put,
    all: () => [...tokens.values()].map((entry) => entry.tokens),
    delete: (resource) => void tokens.delete(resource),
    clear: () => tokens.clear(),
  };
}
