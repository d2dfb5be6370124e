import { OAUTH_ERROR, type OAuthErrorCode } from '@mandate/sdk/protocol';

/**
 * The one error catalogue. Every failure the broker reports carries an internal `ERR_*` code;
 * `http/errors.ts` maps it to RFC 6749 JSON on OAuth routes and RFC 9457 problem+json on the
 * admin API. Messages are written for the caller and never carry secrets or internals.
 */
interface CatalogueEntry {
  status: number;
  oauth: OAuthErrorCode;
  title: string;
}

const entry = (status: number, oauth: OAuthErrorCode, title: string): CatalogueEntry => ({ status, oauth, title });

export const ERROR_CATALOGUE = {
  // request parsing (shared by every route)
  ERR_REQUEST_BODY_TOO_LARGE: entry(413, OAUTH_ERROR.invalidRequest, 'Request body too large'),
  ERR_REQUEST_CONTENT_TYPE: entry(415, OAUTH_ERROR.invalidRequest, 'Unsupported content type'),
  ERR_REQUEST_MALFORMED_BODY: entry(400, OAUTH_ERROR.invalidRequest, 'Malformed request body'),
  ERR_REQUEST_DUPLICATE_PARAMETER: entry(400, OAUTH_ERROR.invalidRequest, 'Duplicate parameter'),
  ERR_REQUEST_MISSING_PARAMETER: entry(400, OAUTH_ERROR.invalidRequest, 'Missing parameter'),
  ERR_REQUEST_INVALID_PARAMETER: entry(400, OAUTH_ERROR.invalidRequest, 'Invalid parameter'),
  ERR_REQUEST_NOT_FOUND: entry(404, OAUTH_ERROR.invalidRequest, 'Not found'),
  ERR_REQUEST_METHOD_NOT_ALLOWED: entry(405, OAUTH_ERROR.invalidRequest, 'Method not allowed'),
  ERR_REQUEST_RATE_LIMITED: entry(429, OAUTH_ERROR.slowDown, 'Too many requests'),
  // admin API authentication and authorization
  ERR_ADMIN_UNAUTHENTICATED: entry(401, OAUTH_ERROR.invalidClient, 'Authentication required'),
  ERR_ADMIN_FORBIDDEN: entry(403, OAUTH_ERROR.accessDenied, 'Forbidden'),
  // directory: humans, agents, admin tokens
  ERR_HUMAN_NOT_FOUND: entry(404, OAUTH_ERROR.invalidRequest, 'Human not found'),
  ERR_HUMAN_DISABLED: entry(409, OAUTH_ERROR.invalidRequest, 'Human is disabled'),
  ERR_AGENT_NOT_FOUND: entry(404, OAUTH_ERROR.invalidRequest, 'Agent not found'),
  ERR_AGENT_NAME_TAKEN: entry(409, OAUTH_ERROR.invalidRequest, 'Agent name already registered'),
  ERR_AGENT_STATE: entry(409, OAUTH_ERROR.invalidRequest, 'Agent state does not allow this'),
  ERR_AGENT_OWNER_REQUIRED: entry(400, OAUTH_ERROR.invalidRequest, 'An agent needs at least one active owner'),
  ERR_AGENT_POLICY_UNKNOWN: entry(400, OAUTH_ERROR.invalidRequest, 'Unknown attestation policy'),
  ERR_AGENT_JWK_INVALID: entry(400, OAUTH_ERROR.invalidRequest, 'Invalid agent public key'),
  ERR_AGENT_HUMAN_UNKNOWN: entry(400, OAUTH_ERROR.invalidRequest, 'Owner or approver is not a known human'),
  ERR_AGENT_HUMAN_DISABLED: entry(400, OAUTH_ERROR.invalidRequest, 'Owner or approver is disabled'),
  ERR_TOKEN_NOT_FOUND: entry(404, OAUTH_ERROR.invalidRequest, 'Admin token not found'),
  ERR_TOKEN_RIGHTS_EXCEEDED: entry(403, OAUTH_ERROR.accessDenied, 'Cannot grant rights the caller does not hold'),
  // keys
  ERR_KEYS_NO_SIGNING_KEY: entry(503, OAUTH_ERROR.temporarilyUnavailable, 'No active signing key'),
  // audit
  ERR_AUDIT_UNAVAILABLE: entry(503, OAUTH_ERROR.temporarilyUnavailable, 'Audit log unavailable'),
  // client authentication: private_key_jwt (RFC 7523 §3, PROTOCOL §2)
  ERR_CLIENT_AUTH_MISSING: entry(401, OAUTH_ERROR.invalidClient, 'Client authentication required'),
  ERR_CLIENT_ASSERTION_TYPE: entry(401, OAUTH_ERROR.invalidClient, 'Unsupported client assertion type'),
  ERR_CLIENT_ASSERTION_MALFORMED: entry(401, OAUTH_ERROR.invalidClient, 'Malformed client assertion'),
  ERR_CLIENT_ASSERTION_TYP: entry(401, OAUTH_ERROR.invalidClient, 'Client assertion has the wrong typ'),
  ERR_CLIENT_UNKNOWN: entry(401, OAUTH_ERROR.invalidClient, 'Unknown client'),
  ERR_CLIENT_ID_MISMATCH: entry(401, OAUTH_ERROR.invalidClient, 'client_id does not match the assertion'),
  ERR_CLIENT_ASSERTION_ISS_SUB: entry(401, OAUTH_ERROR.invalidClient, 'Client assertion iss and sub must equal client_id'),
  ERR_CLIENT_ASSERTION_AUD: entry(401, OAUTH_ERROR.invalidClient, 'Client assertion audience must be the issuer'),
  ERR_CLIENT_ASSERTION_LIFETIME: entry(401, OAUTH_ERROR.invalidClient, 'Client assertion lifetime invalid'),
  ERR_CLIENT_ASSERTION_EXPIRED: entry(401, OAUTH_ERROR.invalidClient, 'Client assertion expired'),
  ERR_CLIENT_ASSERTION_JTI: entry(401, OAUTH_ERROR.invalidClient, 'Client assertion jti missing'),
  ERR_CLIENT_ASSERTION_REPLAY: entry(401, OAUTH_ERROR.invalidClient, 'Client assertion replayed'),
  ERR_CLIENT_ASSERTION_SIGNATURE: entry(401, OAUTH_ERROR.invalidClient, 'Client assertion signature invalid'),
  ERR_CLIENT_INACTIVE: entry(401, OAUTH_ERROR.invalidClient, 'Client is suspended or retired'),
  // DPoP proofs (RFC 9449 §4.3, §8)
  ERR_DPOP_MISSING: entry(400, OAUTH_ERROR.invalidDpopProof, 'DPoP proof required'),
  ERR_DPOP_MALFORMED: entry(400, OAUTH_ERROR.invalidDpopProof, 'Malformed DPoP proof'),
  ERR_DPOP_TYP: entry(400, OAUTH_ERROR.invalidDpopProof, 'DPoP proof has the wrong typ'),
  ERR_DPOP_ALG: entry(400, OAUTH_ERROR.invalidDpopProof, 'DPoP proof algorithm not allowed'),
  ERR_DPOP_JWK: entry(400, OAUTH_ERROR.invalidDpopProof, 'DPoP proof key invalid'),
  ERR_DPOP_SIGNATURE: entry(400, OAUTH_ERROR.invalidDpopProof, 'DPoP proof signature invalid'),
  ERR_DPOP_JTI: entry(400, OAUTH_ERROR.invalidDpopProof, 'DPoP proof jti invalid'),
  ERR_DPOP_HTM: entry(400, OAUTH_ERROR.invalidDpopProof, 'DPoP proof htm mismatch'),
  ERR_DPOP_HTU: entry(400, OAUTH_ERROR.invalidDpopProof, 'DPoP proof htu mismatch'),
  ERR_DPOP_IAT: entry(400, OAUTH_ERROR.invalidDpopProof, 'DPoP proof iat outside window'),
  ERR_DPOP_ATH: entry(400, OAUTH_ERROR.invalidDpopProof, 'DPoP proof ath mismatch'),
  ERR_DPOP_REPLAY: entry(400, OAUTH_ERROR.invalidDpopProof, 'DPoP proof replayed'),
  ERR_DPOP_NONCE_REQUIRED: entry(400, OAUTH_ERROR.useDpopNonce, 'DPoP nonce required'),
  ERR_DPOP_NONCE_INVALID: entry(400, OAUTH_ERROR.useDpopNonce, 'DPoP nonce stale or invalid'),
  // last resort
  ERR_INTERNAL: entry(500, OAUTH_ERROR.serverError, 'Internal error'),
} as const satisfies Record<`ERR_${string}`, CatalogueEntry>;

export type ErrorCode = keyof typeof ERROR_CATALOGUE;

export class MandateError extends Error {
  override readonly name = 'MandateError';
  readonly code: ErrorCode;
  /** Extra members safe to show the caller (e.g. the offending parameter name). */
  readonly details: Readonly<Record<string, unknown>>;

  constructor(code: ErrorCode, message: string, details: Record<string, unknown> = {}) {
    super(message);
    this.code = code;
    this.details = details;
  }

  get status(): number {
    return ERROR_CATALOGUE[this.code].status;
  }
}

export function isMandateError(value: unknown): value is MandateError {
  return value instanceof MandateError;
}
