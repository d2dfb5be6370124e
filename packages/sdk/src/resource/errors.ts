import { RESOURCE_ERROR, SIGNING_ALGS } from '../protocol/index.ts';
import { MandateSdkError } from '../errors.ts';

type ResourceError = (typeof RESOURCE_ERROR)[keyof typeof RESOURCE_ERROR];

const { invalidToken: TOKEN, invalidDpopProof: PROOF, useDpopNonce: NONCE, insufficientScope: SCOPE } = RESOURCE_ERROR;

/**
 * Every rejection the verifier makes, with its HTTP status and the RFC 6750 / RFC 9449 error code
 * for `WWW-Authenticate`. A missing token carries no error code (RFC 6750 §3.1); a 503 means the
 * verifier could not decide (JWKS or introspection unreachable) and fails closed.
 *
 * @example
 * ```ts
 * const [status, error] = VERIFIER_ERRORS.ERR_DPOP_REPLAY; // [401, 'invalid_dpop_proof']
 * ```
 */
export const VERIFIER_ERRORS = {
  ERR_TOKEN_MISSING: [401, undefined],
  ERR_TOKEN_SCHEME: [401, TOKEN],
  ERR_TOKEN_BEARER: [401, TOKEN],
  ERR_TOKEN_MALFORMED: [401, TOKEN],
  ERR_TOKEN_TYP: [401, TOKEN],
  ERR_TOKEN_ALG: [401, TOKEN],
  ERR_TOKEN_KEY_UNKNOWN: [401, TOKEN],
  ERR_TOKEN_SIGNATURE: [401, TOKEN],
  ERR_TOKEN_ISSUER: [401, TOKEN],
  ERR_TOKEN_AUDIENCE: [401, TOKEN],
  ERR_TOKEN_LOCATION: [401, TOKEN],
  ERR_TOKEN_EXPIRED: [401, TOKEN],
  ERR_TOKEN_NOT_YET_VALID: [401, TOKEN],
  ERR_TOKEN_CLAIMS: [401, TOKEN],
  ERR_TOKEN_REVOKED: [401, TOKEN],
  ERR_DPOP_MISSING: [401, PROOF],
  ERR_DPOP_MALFORMED: [401, PROOF],
  ERR_DPOP_TYP: [401, PROOF],
  ERR_DPOP_ALG: [401, PROOF],
  ERR_DPOP_JWK: [401, PROOF],
  ERR_DPOP_SIGNATURE: [401, PROOF],
  ERR_DPOP_JTI: [401, PROOF],
  ERR_DPOP_HTM: [401, PROOF],
  ERR_DPOP_HTU: [401, PROOF],
  ERR_DPOP_IAT: [401, PROOF],
  ERR_DPOP_ATH: [401, PROOF],
  ERR_DPOP_REPLAY: [401, PROOF],
  ERR_DPOP_NONCE: [401, NONCE],
  ERR_DPOP_KEY_MISMATCH: [401, TOKEN],
  ERR_ACTOR_NOT_ALLOWED: [403, SCOPE],
  ERR_AUTONOMOUS_REJECTED: [403, SCOPE],
  ERR_ADMIN_APPROVAL_REJECTED: [403, SCOPE],
  ERR_INSUFFICIENT_SCOPE: [403, SCOPE],
  ERR_JWKS_UNAVAILABLE: [503, undefined],
  ERR_INTROSPECTION_UNAVAILABLE: [503, undefined],
  ERR_STATUS_LIST_UNAVAILABLE: [503, undefined],
} as const satisfies Record<string, readonly [401 | 403 | 503, ResourceError | undefined]>;

/**
 * The `code` of a `VerifierError`.
 *
 * @example
 * ```ts
 * if ((error as VerifierError).code satisfies VerifierErrorCode) metrics.count(error.code);
 * ```
 */
export type VerifierErrorCode = keyof typeof VERIFIER_ERRORS;

const ALGS = SIGNING_ALGS.join(' ');

/**
 * A request the resource-server verifier refuses. `status` is the HTTP status to answer,
 * `wwwAuthenticate` the ready `WWW-Authenticate` value (absent for 503), and `headers` both that
 * and `DPoP-Nonce` when the client must retry with a nonce.
 *
 * @example
 * ```ts
 * try {
 *   const result = await verifier.verifyRequest({ method: req.method, url: req.url, headers: req.headers });
 * } catch (error) {
 *   if (!(error instanceof VerifierError)) throw error;
 *   res.writeHead(error.status, error.headers).end();
 * }
 * ```
 */
export class VerifierError extends MandateSdkError {
  static override code = 'ERR_VERIFIER';
  override code: VerifierErrorCode;
  status: 401 | 403 | 503;
  /** The RFC 6750 / RFC 9449 error code sent in `WWW-Authenticate`, if any. */
  error: ResourceError | undefined;
  /** A fresh nonce the client must put in its next proof (`use_dpop_nonce`). */
  dpopNonce: string | undefined;

  constructor(code: VerifierErrorCode, message: string, options: { dpopNonce?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    [this.status, this.error] = VERIFIER_ERRORS[code];
    this.dpopNonce = options.dpopNonce;
  }

  /** `DPoP error="…", error_description="…", algs="ES256 EdDSA"` (RFC 9449 §7.1), or undefined for 503. */
  get wwwAuthenticate(): string | undefined {
    if (this.status === 503) return undefined;
    if (this.error === undefined) return `DPoP algs="${ALGS}"`;
    return `DPoP error="${this.error}", error_description="${quotable(this.message)}", algs="${ALGS}"`;
  }

  /** Response headers to send with `status`. */
  get headers(): Record<string, string> {
    const headers: Record<string, string> = {};
    if (this.wwwAuthenticate) headers['WWW-Authenticate'] = this.wwwAuthenticate;
    if (this.dpopNonce) headers['DPoP-Nonce'] = this.dpopNonce;
    if (this.status === 503) headers['Retry-After'] = '5';
    return headers;
  }
}

/** RFC 6750 §3: `error_description` allows %x20-21 / %x23-5B / %x5D-7E only. */
function quotable(text: string): string {
  return text.replace(/[^\x20\x21\x23-\x5b\x5d-\x7e]/g, ' ').slice(0, 200);
}
