/**
 * Error classes of the SDK. Every class carries a stable `code` string (also as a static member),
 * so callers can branch on `error.code` without `instanceof` across package copies.
 *
 * @module
 */

/**
 * Base class of every error the SDK throws on purpose.
 *
 * @example
 * ```ts
 * try {
 *   await agent.mint({ resource: 'https://api.example.com' });
 * } catch (error) {
 *   if (error instanceof MandateSdkError) console.error(error.code, error.message);
 * }
 * ```
 */
export class MandateSdkError extends Error {
  static code = 'ERR_MANDATE_SDK';
  code: string = 'ERR_MANDATE_SDK';

  constructor(message?: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = this.constructor.name;
  }
}

/**
 * An option passed to a factory is missing or malformed.
 *
 * @example
 * ```ts
 * try { createAgentClient({ issuer: 'not a url', clientId: 'agt_x', clientKey }); }
 * catch (error) { if (error instanceof ConfigurationError) console.error(error.message); }
 * ```
 */
export class ConfigurationError extends MandateSdkError {
  static override code = 'ERR_SDK_CONFIGURATION';
  override code = 'ERR_SDK_CONFIGURATION';
}

/**
 * The authorization server's metadata could not be fetched, or names another issuer (RFC 8414 §3.3).
 *
 * @example
 * ```ts
 * await agent.discover().catch((error) => {
 *   if (error.code === DiscoveryError.code) console.error('broker unreachable or misconfigured');
 * });
 * ```
 */
export class DiscoveryError extends MandateSdkError {
  static override code = 'ERR_SDK_DISCOVERY';
  override code = 'ERR_SDK_DISCOVERY';
}

/**
 * A response from the broker or a resource server was not what the wire protocol says it is
 * (not JSON, a required member missing or of the wrong type).
 *
 * @example
 * ```ts
 * if (error instanceof ResponseFormatError) console.error('unexpected answer from', error.endpoint);
 * ```
 */
export class ResponseFormatError extends MandateSdkError {
  static override code = 'ERR_SDK_RESPONSE_FORMAT';
  override code = 'ERR_SDK_RESPONSE_FORMAT';
  /** The URL that answered. */
  endpoint: string;

  constructor(message: string, endpoint: string) {
    super(message);
    this.endpoint = endpoint;
  }
}

/**
 * What an OAuth error response (RFC 6749 §5.2) carried.
 *
 * @example
 * ```ts
 * const body: OAuthErrorBody = { error: 'invalid_request', mandate_error: 'attestation_stale' };
 * ```
 */
export interface OAuthErrorBody {
  error: string;
  error_description?: string;
  /** Mandate's machine-readable reason (PROTOCOL §5), e.g. `attestation_stale`. */
  mandate_error?: string;
}

/**
 * The broker answered with an OAuth error. `oauthError` is the RFC's code (`invalid_grant`,
 * `invalid_request`, …); `mandateError` the broker's reason when it sent one (`mandate_revoked`).
 *
 * @example
 * ```ts
 * try { await agent.mint({ resource }); }
 * catch (error) {
 *   if (error instanceof OAuthResponseError && error.mandateError === 'mandate_revoked') stop();
 * }
 * ```
 */
export class OAuthResponseError extends MandateSdkError {
  static override code = 'ERR_SDK_OAUTH_RESPONSE';
  override code = 'ERR_SDK_OAUTH_RESPONSE';
  /** HTTP status of the response. */
  status: number;
  oauthError: string;
  errorDescription: string | undefined;
  mandateError: string | undefined;

  constructor(status: number, body: OAuthErrorBody) {
    super(`${body.error}${body.error_description ? `: ${body.error_description}` : ''}`);
    this.status = status;
    this.oauthError = body.error;
    this.errorDescription = body.error_description;
    this.mandateError = body.mandate_error;
  }
}

/**
 * The approver denied the backchannel request (OpenID CIBA `access_denied`).
 *
 * @example
 * ```ts
 * await agent.waitForApproval(authReqId).catch((error) => {
 *   if (error.code === AccessDeniedError.code) console.log('the human said no');
 * });
 * ```
 */
export class AccessDeniedError extends OAuthResponseError {
  static override code = 'ERR_SDK_ACCESS_DENIED';
  override code = 'ERR_SDK_ACCESS_DENIED';
}

/**
 * The backchannel request expired before anyone decided (OpenID CIBA `expired_token`).
 *
 * @example
 * ```ts
 * if (error instanceof ExpiredRequestError) await agent.ask(task); // ask again
 * ```
 */
export class ExpiredRequestError extends OAuthResponseError {
  static override code = 'ERR_SDK_EXPIRED_REQUEST';
  override code = 'ERR_SDK_EXPIRED_REQUEST';
}

/**
 * `waitForApproval` gave up after its `timeoutMs`.
 *
 * @example
 * ```ts
 * await agent.waitForApproval(id, { timeoutMs: 60_000 }).catch((error) => {
 *   if (error instanceof WaitTimeoutError) console.log('still pending after a minute');
 * });
 * ```
 */
export class WaitTimeoutError extends MandateSdkError {
  static override code = 'ERR_SDK_WAIT_TIMEOUT';
  override code = 'ERR_SDK_WAIT_TIMEOUT';
}

/**
 * `waitForApproval` stopped because its `signal` was aborted; the reason is in `cause`.
 *
 * @example
 * ```ts
 * const controller = new AbortController();
 * setTimeout(() => controller.abort(), 10_000);
 * await agent.waitForApproval(id, { signal: controller.signal }).catch((error) => {
 *   if (error instanceof WaitAbortedError) console.log('cancelled');
 * });
 * ```
 */
export class WaitAbortedError extends MandateSdkError {
  static override code = 'ERR_SDK_WAIT_ABORTED';
  override code = 'ERR_SDK_WAIT_ABORTED';
}

/**
 * A token was needed but the client holds no mandate grant for it (and is not autonomous).
 *
 * @example
 * ```ts
 * if (error instanceof NoGrantError) await agent.ask(task);
 * ```
 */
export class NoGrantError extends MandateSdkError {
  static override code = 'ERR_SDK_NO_GRANT';
  override code = 'ERR_SDK_NO_GRANT';
}
