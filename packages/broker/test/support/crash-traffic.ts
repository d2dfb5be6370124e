/**
 * The SDK agents' `fetch` during a crash run: it sends every request for the fixed public issuer to
 * the broker's current port (the port changes at each restart; the issuer, hence every `aud` and
 * DPoP `htu`, does not), and counts what is in flight, so a kill can be aimed at a moment when
 * `/token` requests are open and the connections it cuts are counted.
 */
export interface TrafficCounts {
  /** Requests open at the moment of the kill (all endpoints / `/token` only). */
  inFlightAtKill: number;
  tokenInFlightAtKill: number;
  /** Requests open at the kill that then failed: their connection was cut. */
  cut: number;
  tokenCut: number;
}

export interface Traffic {
  fetch: typeof fetch;
  /** Points the issuer at a (re)started broker and opens a new epoch. */
  route(base: string): void;
  tokenInFlight(): number;
  /** Snapshot at the kill; requests of this epoch that fail from now on count as cut. */
  markKill(): void;
  counts(): TrafficCounts;
}

export function createTraffic(issuer: string): Traffic {
  let base = '';
  let epoch = 0;
  let killedEpoch = -1;
  let open = 0;
  let tokenOpen = 0;
  const counts: TrafficCounts = { inFlightAtKill: 0, tokenInFlightAtKill: 0, cut: 0, tokenCut: 0 };
  const tracked: typeof fetch = async (input, init) => {
    const url = String(input instanceof Request ? input.url : input);
    const isToken = new URL(url).pathname === '/token';
    const mine = epoch;
    open++;
    if (isToken) tokenOpen++;
    try {
      return await fetch(url.replace(issuer, base), init);
    } catch (error) {
      // Started before the kill of its epoch and failed: a connection the kill cut.
      if (mine === killedEpoch) (counts.cut++, isToken && counts.tokenCut++);
      throw error;
    } finally {
      open--;
      if (isToken) tokenOpen--;
    }
  };
  return {
    fetch: tracked,
    route(next) {
      base = next;
      epoch++;
    },
    tokenInFlight: () => tokenOpen,
    markKill() {
      killedEpoch = epoch;
      counts.inFlightAtKill += open;
      counts.tokenInFlightAtKill += tokenOpen;
      // Later requests of this epoch are refused (nothing listens), never "in flight": a new epoch.
      epoch++;
    },
    counts: () => ({ ...counts }),
  };
}
