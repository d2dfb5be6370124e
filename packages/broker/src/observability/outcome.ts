import { ERROR_CATALOGUE, isMandateError, type ErrorCode } from '../core/errors.ts';

/**
 * The outcome label of a failed operation: the RFC 6749 error its catalogue entry maps to (a
 * closed set of about twenty words), so labels stay bounded whatever the caller sends. Metrics
 * that need a finer word for one code pass it in `named` (e.g. `contraindicated`).
 */
export function outcomeOf(error: unknown, named: Partial<Record<ErrorCode, string>> = {}): string {
  if (!isMandateError(error)) return 'internal_error';
  return named[error.code] ?? ERROR_CATALOGUE[error.code].oauth;
}
