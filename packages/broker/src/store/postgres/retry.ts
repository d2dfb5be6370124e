import { isStalePlan } from './prepared.ts';

/** SQLSTATE deadlock_detected, serialization_failure: the transaction rolled back whole and may run again. */
const RETRYABLE = new Set(['40P01', '40001']);
const ATTEMPTS = 3;

/**
 * A transaction (a revocation, a batch of mints) that lost a deadlock (with a transaction outside
 * its fixed lock order), a serialization failure or a stale prepared plan (prepared.ts) runs again, a bounded number of times, instead
 * of answering 503: nothing of it was stored, and its statements are conditional, so running it
 * again is safe.
 */
export async function retried<T>(transaction: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await transaction();
    } catch (error) {
      if (attempt >= ATTEMPTS || !(RETRYABLE.has((error as { code?: string }).code ?? '') || isStalePlan(error))) throw error;
    }
  }
}

