/**
 * Why a compact JWS was refused, one code per stage of `parseJws` / `verifyJwsSignature`.
 *
 * @example
 * ```ts
 * const fault: JwsFault = 'ERR_JWS_SIGNATURE';
 * ```
 */
export type JwsFault = 'ERR_JWS_FORMAT' | 'ERR_JWS_HEADER' | 'ERR_JWS_ALG' | 'ERR_JWS_CRIT' | 'ERR_JWS_PAYLOAD' | 'ERR_JWS_SIGNATURE';

/**
 * A compact JWS the strict module refuses. Callers map `code` to their own error codes; the
 * message never holds token content beyond an `alg` value.
 *
 * @example
 * ```ts
 * try {
 *   parseJws(token);
 * } catch (error) {
 *   if (error instanceof JwsError && error.code === 'ERR_JWS_ALG') console.log('alg not allowed');
 * }
 * ```
 */
export class JwsError extends Error {
  override readonly name = 'JwsError';
  readonly code: JwsFault;

  constructor(code: JwsFault, message: string) {
    super(message);
    this.code = code;
  }
}
