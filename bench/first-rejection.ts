import { VerifierError } from '@mandate/sdk';

/** Calls through the SDK verifier until it refuses a revoked token, at most this long. */
const GIVE_UP_MS = 10_000;

/** One propagation sample (BENCH.md P8). */
export interface Sample {
  /** From sending the revocation to the first refused call. */
  ms: number;
  /** From sending the revocation to its response (the revoking broker's durable revocation). */
  revokeMs: number;
}

/**
 * Sends the revocation and, meanwhile, uses the token continuously until the verifier answers
 * `ERR_TOKEN_REVOKED`: the time from sending to that first refusal. Any other error ends the run.
 */
export async function timeToFirstRejection(use: () => Promise<unknown>, revoke: () => Promise<unknown>): Promise<Sample> {
  const start = performance.now();
  let revokeMs = Number.NaN;
  const revoked = revoke().then(() => void (revokeMs = performance.now() - start));
  for (;;) {
    try {
      await use();
    } catch (error) {
      if (error instanceof VerifierError && error.code === 'ERR_TOKEN_REVOKED') {
        const ms = performance.now() - start;
        await revoked;
        return { ms, revokeMs };
      }
      throw error;
    }
    if (performance.now() - start > GIVE_UP_MS) throw new Error(`still accepted ${GIVE_UP_MS} ms after the revocation`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}
