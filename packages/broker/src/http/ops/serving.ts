/**
 * Where the process stands for load balancers: requests in flight, and whether it is draining
 * (shutting down: `/readyz` answers 503 so no new work is routed here).
 */
export interface ServingState {
  readonly draining: boolean;
  readonly inFlight: number;
  markDraining(): void;
  requestStarted(): void;
  requestEnded(): void;
}

export function createServingState(): ServingState {
  let draining = false;
  let inFlight = 0;
  return {
    get draining() {
      return draining;
    },
    get inFlight() {
      return inFlight;
    },
    markDraining: () => void (draining = true),
    requestStarted: () => void (inFlight += 1),
    requestEnded: () => void (inFlight = Math.max(0, inFlight - 1)),
  };
}
