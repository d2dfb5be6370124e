import { OAUTH_ERROR } from '@mandate/sdk/protocol';
import { K8S_SA_TOKEN_ERRORS } from './attestor-errors/k8s-sa-token.ts';
import { SIGSTORE_ERRORS } from './attestor-errors/sigstore.ts';
import { SPIFFE_JWT_SVID_ERRORS } from './attestor-errors/spiffe-jwt-svid.ts';
import { TPM_QUOTE_ERRORS } from './attestor-errors/tpm-quote.ts';
import { entry, type CatalogueEntry } from './error-entry.ts';

/**
 * The one error catalogue. Every failure the broker reports carries an internal `ERR_*` code;
 * `http/errors.ts` maps it to RFC 6749 JSON on OAuth routes and RFC 9457 problem+json on the
 * admin API. Messages are written for the caller and never carry secrets or internals.
 */
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
  // rate limits on /token, /attest, /bc-authorize (docs/limits.md): RFC 6585 §4 status, RFC 8628 §3.5 `slow_down`
  ERR_RATE_LIMITED: entry(429, OAUTH_ERROR.slowDown, 'Too many requests'),
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
  ERR_ROLE_RIGHTS_EXCEEDED: entry(403, OAUTH_ERROR.accessDenied, 'Cannot grant roles whose rights the caller does not hold'),
  // keys
  ERR_KEYS_NO_SIGNING_KEY: entry(503, OAUTH_ERROR.temporarilyUnavailable, 'No active signing key'),
  ERR_KEYS_AT_REST_UNREADABLE: entry(500, OAUTH_ERROR.serverError, 'A sealed key or secret cannot be opened with the configured wrapping keys'),
  // operations: readiness and the metrics scrape (docs/operations.md)
  ERR_OPS_NOT_READY: entry(503, OAUTH_ERROR.temporarilyUnavailable, 'Not ready'),
  ERR_OPS_METRICS_UNAUTHENTICATED: entry(401, OAUTH_ERROR.invalidClient, 'Metrics bearer token required'),
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
  // attestation challenges (PROTOCOL §3)
  ERR_CHALLENGE_INVALID: entry(400, OAUTH_ERROR.invalidRequest, 'Challenge nonce invalid'),
  ERR_CHALLENGE_EXPIRED: entry(400, OAUTH_ERROR.invalidRequest, 'Challenge nonce expired'),
  ERR_CHALLENGE_REPLAYED: entry(400, OAUTH_ERROR.invalidRequest, 'Challenge nonce already used'),
  // POST /attest (PROTOCOL §3)
  ERR_ATTESTATION_EVIDENCE_INVALID: entry(400, OAUTH_ERROR.invalidRequest, 'Invalid evidence list'),
  ERR_ATTESTOR_UNKNOWN: entry(400, OAUTH_ERROR.invalidRequest, 'Unknown or disabled attestor'),
  ERR_ATTESTATION_REJECTED: entry(400, OAUTH_ERROR.invalidRequest, 'Evidence does not satisfy the attestation policy'),
  // attestation results presented back to the broker (PROTOCOL §3, §5)
  ERR_ATTESTATION_INVALID: entry(400, OAUTH_ERROR.invalidRequest, 'Malformed attestation result'),
  ERR_ATTESTATION_TYP: entry(400, OAUTH_ERROR.invalidRequest, 'Attestation result has the wrong typ'),
  ERR_ATTESTATION_SIGNATURE: entry(400, OAUTH_ERROR.invalidRequest, 'Attestation result signature invalid'),
  ERR_ATTESTATION_ISSUER: entry(400, OAUTH_ERROR.invalidRequest, 'Attestation result issuer or audience mismatch'),
  ERR_ATTESTATION_SUBJECT_MISMATCH: entry(400, OAUTH_ERROR.invalidRequest, 'Attestation result is for another agent'),
  ERR_ATTESTATION_KEY_MISMATCH: entry(400, OAUTH_ERROR.invalidRequest, 'Attestation result is bound to another key'),
  ERR_ATTESTATION_CONTRAINDICATED: entry(400, OAUTH_ERROR.invalidRequest, 'Attestation contraindicated'),
  ERR_ATTESTATION_STALE: entry(400, OAUTH_ERROR.invalidRequest, 'Attestation result stale'),
  // attestation policy reasons (policy/evaluate.ts), reported per failure
  ERR_POLICY_AGENT_SCOPE: entry(400, OAUTH_ERROR.invalidRequest, 'Attestation policy does not apply to this agent'),
  ERR_POLICY_ATTESTOR_MISSING: entry(400, OAUTH_ERROR.invalidRequest, 'Required attestor missing'),
  ERR_POLICY_CLAIM_MISMATCH: entry(400, OAUTH_ERROR.invalidRequest, 'Attested claim does not match the policy'),
  ERR_POLICY_STATUS_TOO_LOW: entry(400, OAUTH_ERROR.invalidRequest, 'Attestor status below what the policy requires'),
  ERR_POLICY_EQUALITY: entry(400, OAUTH_ERROR.invalidRequest, 'Claims the policy requires to be equal differ'),
  ERR_POLICY_CONTRAINDICATED: entry(400, OAUTH_ERROR.invalidRequest, 'An attestor reported contraindicated evidence'),
  // attestor oidc-token
  ERR_OIDC_TOKEN_MALFORMED: entry(400, OAUTH_ERROR.invalidRequest, 'Malformed OIDC token'),
  ERR_OIDC_TOKEN_ISSUER: entry(400, OAUTH_ERROR.invalidRequest, 'OIDC token issuer not configured'),
  ERR_OIDC_TOKEN_ALG: entry(400, OAUTH_ERROR.invalidRequest, 'OIDC token algorithm not allowed'),
  ERR_OIDC_TOKEN_TYP: entry(400, OAUTH_ERROR.invalidRequest, 'OIDC token has the wrong typ'),
  ERR_OIDC_TOKEN_SIGNATURE: entry(400, OAUTH_ERROR.invalidRequest, 'OIDC token signature invalid'),
  ERR_OIDC_TOKEN_EXPIRED: entry(400, OAUTH_ERROR.invalidRequest, 'OIDC token expired'),
  ERR_OIDC_TOKEN_NOT_YET_VALID: entry(400, OAUTH_ERROR.invalidRequest, 'OIDC token not yet valid'),
  ERR_OIDC_TOKEN_IAT: entry(400, OAUTH_ERROR.invalidRequest, 'OIDC token iat missing or in the future'),
  ERR_OIDC_TOKEN_AUDIENCE: entry(400, OAUTH_ERROR.invalidRequest, 'OIDC token audience is not bound to the challenge'),
  ERR_OIDC_TOKEN_REPLAYED: entry(400, OAUTH_ERROR.invalidRequest, 'OIDC token already used'),
  ERR_OIDC_ISSUER_UNAVAILABLE: entry(503, OAUTH_ERROR.temporarilyUnavailable, 'OIDC issuer keys unavailable'),
  // attestor code-digest
  ERR_CODE_DIGEST_MALFORMED: entry(400, OAUTH_ERROR.invalidRequest, 'Malformed code digest'),
  // the other attestors keep their codes beside each other in attestor-errors/
  ...K8S_SA_TOKEN_ERRORS,
  ...SPIFFE_JWT_SVID_ERRORS,
  ...SIGSTORE_ERRORS,
  ...TPM_QUOTE_ERRORS,
  // TPM attestation-key enrolment (services/key-enrolment.ts)
  ERR_KEY_ENROLMENT_INVALID: entry(400, OAUTH_ERROR.invalidRequest, 'Unknown or foreign enrolment'),
  ERR_KEY_ENROLMENT_REPLAYED: entry(400, OAUTH_ERROR.invalidRequest, 'Enrolment already answered'),
  // asking: /bc-authorize (OpenID CIBA §7, §13; PROTOCOL §4)
  ERR_ASK_AUTHORIZATION_DETAILS: entry(400, OAUTH_ERROR.invalidAuthorizationDetails, 'Invalid authorization details'),
  ERR_ASK_UNKNOWN_USER: entry(400, OAUTH_ERROR.unknownUserId, 'Unknown user'),
  ERR_ASK_BINDING_MESSAGE: entry(400, OAUTH_ERROR.invalidBindingMessage, 'Invalid binding message'),
  ERR_ASK_DPOP_KEY: entry(400, OAUTH_ERROR.invalidRequest, 'A DPoP key must be pinned to the request'),
  ERR_ASK_ATTESTATION: entry(400, OAUTH_ERROR.invalidRequest, 'A fresh attestation result for the DPoP key is required'),
  ERR_ASK_REQUESTED_EXPIRY: entry(400, OAUTH_ERROR.invalidRequest, 'Invalid requested_expiry'),
  ERR_ASK_TOO_MANY_PENDING: entry(429, OAUTH_ERROR.slowDown, 'Too many pending requests for this agent'),
  // CIBA polling (OpenID CIBA §11)
  ERR_CIBA_PENDING: entry(400, OAUTH_ERROR.authorizationPending, 'Authorization pending'),
  ERR_CIBA_SLOW_DOWN: entry(400, OAUTH_ERROR.slowDown, 'Polling too fast'),
  ERR_CIBA_DENIED: entry(400, OAUTH_ERROR.accessDenied, 'The approver denied the request'),
  ERR_CIBA_EXPIRED: entry(400, OAUTH_ERROR.expiredToken, 'The request expired'),
  ERR_CIBA_INVALID_GRANT: entry(400, OAUTH_ERROR.invalidGrant, 'Unknown, foreign or redeemed auth_req_id'),
  ERR_CIBA_DPOP_KEY: entry(400, OAUTH_ERROR.invalidGrant, 'The proof is not by the DPoP key pinned to the request'),
  // token endpoint (RFC 6749 §5.2, RFC 8693 §2.2.2, PROTOCOL §5)
  ERR_GRANT_TYPE_UNSUPPORTED: entry(400, OAUTH_ERROR.unsupportedGrantType, 'Unsupported grant type'),
  ERR_TOKEN_TYPE_UNSUPPORTED: entry(400, OAUTH_ERROR.unsupportedTokenType, 'Unsupported token type'),
  ERR_MINT_TARGET: entry(400, OAUTH_ERROR.invalidTarget, 'Invalid resource'),
  ERR_MINT_SUBJECT_TOKEN: entry(400, OAUTH_ERROR.invalidRequest, 'Invalid subject token'),
  ERR_MINT_CLIENT_MISMATCH: entry(400, OAUTH_ERROR.invalidRequest, 'The mandate belongs to another agent'),
  ERR_MINT_ACTOR_TOKEN: entry(400, OAUTH_ERROR.invalidRequest, 'Invalid actor token'),
  ERR_MINT_ATTESTATION_STALE: entry(400, OAUTH_ERROR.invalidRequest, 'Attestation result is stale'),
  ERR_MINT_MANDATE_INACTIVE: entry(400, OAUTH_ERROR.invalidRequest, 'The mandate is not active'),
  ERR_MINT_WIDENING: entry(400, OAUTH_ERROR.invalidAuthorizationDetails, 'Requested authorization details widen the mandate'),
  ERR_MINT_UNAUTHORIZED_CLIENT: entry(400, OAUTH_ERROR.unauthorizedClient, 'The agent may not use this grant here'),
  // sub-agent hops (PROTOCOL §10)
  ERR_SUB_GRANT_SUBJECT_TOKEN: entry(400, OAUTH_ERROR.invalidRequest, 'The subject token is not a delegated access token of this broker'),
  ERR_SUB_GRANT_DPOP_KEY: entry(400, OAUTH_ERROR.invalidRequest, 'The proof is not by the key the parent token is bound to'),
  ERR_SUB_GRANT_PARENT_EXPIRED: entry(400, OAUTH_ERROR.invalidRequest, 'The parent access token has expired'),
  ERR_SUB_GRANT_PARENT_REVOKED: entry(400, OAUTH_ERROR.invalidRequest, 'The parent token or a mandate above it is no longer active'),
  ERR_SUB_GRANT_CHILD_UNKNOWN: entry(400, OAUTH_ERROR.invalidRequest, 'The child is not a registered agent'),
  ERR_SUB_GRANT_CHILD_INACTIVE: entry(400, OAUTH_ERROR.invalidRequest, 'The child agent is suspended or retired'),
  ERR_SUB_GRANT_CHILD_IN_CHAIN: entry(400, OAUTH_ERROR.invalidRequest, 'The child already acts in this delegation chain'),
  ERR_SUB_GRANT_DEPTH: entry(400, OAUTH_ERROR.invalidRequest, 'The delegation chain would exceed the configured depth'),
  ERR_SUB_GRANT_WIDENING_AUDIENCE: entry(400, OAUTH_ERROR.invalidTarget, 'A sub-grant keeps the audience of its parent'),
  ERR_SUB_GRANT_WIDENING_ACTIONS: entry(400, OAUTH_ERROR.invalidAuthorizationDetails, 'Sub-grant actions widen the parent token'),
  ERR_SUB_GRANT_WIDENING_EXPIRY: entry(400, OAUTH_ERROR.invalidAuthorizationDetails, 'Sub-grant notAfter is later than the parent token'),
  ERR_SUB_GRANT_WIDENING_MAX_USES: entry(400, OAUTH_ERROR.invalidAuthorizationDetails, 'Sub-grant maxUses exceeds what the parent has left'),
  ERR_SUB_GRANT_WIDENING_TASK: entry(400, OAUTH_ERROR.invalidAuthorizationDetails, 'Sub-grant purpose, datatypes or identifier widen the parent token'),
  ERR_SUB_GRANT_INVALID: entry(400, OAUTH_ERROR.invalidRequest, 'Unknown sub-grant'),
  ERR_SUB_GRANT_NOT_MAY_ACT: entry(400, OAUTH_ERROR.invalidRequest, 'The caller is not the agent the sub-grant names'),
  ERR_SUB_GRANT_REUSED: entry(400, OAUTH_ERROR.invalidRequest, 'The sub-grant was already redeemed'),
  ERR_SUB_GRANT_EXPIRED: entry(400, OAUTH_ERROR.invalidRequest, 'The sub-grant expired before it was redeemed'),
  // introspection and revocation (RFC 7662, RFC 7009)
  ERR_INTROSPECT_CLIENT: entry(401, OAUTH_ERROR.invalidClient, 'Resource server authentication failed'),
  // mandates in the admin API
  ERR_MANDATE_NOT_FOUND: entry(404, OAUTH_ERROR.invalidRequest, 'Mandate not found'),
  ERR_MANDATE_STATE: entry(409, OAUTH_ERROR.invalidRequest, 'Mandate state does not allow this'),
  ERR_MANDATE_NOT_APPROVER: entry(403, OAUTH_ERROR.accessDenied, 'Only the human named in the request may decide it'),
  // access reviews (services/reviews.ts)
  ERR_REVIEW_NOT_OWNER: entry(403, OAUTH_ERROR.accessDenied, 'Only an owner of the agent may review its mandates'),
  ERR_REVIEW_DISABLED: entry(409, OAUTH_ERROR.invalidRequest, 'Access reviews are off'),
  // notifications (webhook delivery log)
  ERR_DELIVERY_NOT_FOUND: entry(404, OAUTH_ERROR.invalidRequest, 'Webhook delivery not found'),
  // findings: borrowed human credentials from the scanner (services/findings.ts)
  ERR_FINDING_NOT_FOUND: entry(404, OAUTH_ERROR.invalidRequest, 'Finding not found'),
  ERR_FINDING_STATE: entry(409, OAUTH_ERROR.invalidRequest, 'Finding is already converted or dismissed'),
  ERR_FINDING_OWNER_REQUIRED: entry(400, OAUTH_ERROR.invalidRequest, 'No active human matches the owner guess: name an owner'),
  // console inventory actions (src/console/pages): revoking one credential, acting on someone else's agent
  ERR_CREDENTIAL_NOT_FOUND: entry(404, OAUTH_ERROR.invalidRequest, 'Credential not found'),
  ERR_CREDENTIAL_REVOKED: entry(409, OAUTH_ERROR.invalidRequest, 'Credential already revoked'),
  ERR_CONSOLE_NOT_RESPONSIBLE: entry(403, OAUTH_ERROR.accessDenied, 'Only an owner of the agent, the mandate\'s approver or an admin may do this'),
  // console sign-in, passkeys (WebAuthn), invites, OIDC, approval and resume (src/console, docs/console.md)
  ERR_CONSOLE_UNAUTHENTICATED: entry(401, OAUTH_ERROR.accessDenied, 'Sign in to the console first'),
  ERR_CONSOLE_CSRF: entry(403, OAUTH_ERROR.accessDenied, 'Cross-site request refused'),
  ERR_INVITE_UNKNOWN: entry(404, OAUTH_ERROR.invalidRequest, 'Unknown invite'),
  ERR_INVITE_USED: entry(409, OAUTH_ERROR.invalidRequest, 'Invite already used'),
  ERR_INVITE_EXPIRED: entry(410, OAUTH_ERROR.invalidRequest, 'Invite expired'),
  ERR_PASSKEY_CHALLENGE_INVALID: entry(400, OAUTH_ERROR.invalidRequest, 'WebAuthn challenge not issued by this broker for this purpose'),
  ERR_PASSKEY_CHALLENGE_EXPIRED: entry(400, OAUTH_ERROR.invalidRequest, 'WebAuthn challenge expired'),
  ERR_PASSKEY_CHALLENGE_REPLAYED: entry(400, OAUTH_ERROR.invalidRequest, 'WebAuthn challenge already used'),
  ERR_PASSKEY_UNKNOWN: entry(401, OAUTH_ERROR.accessDenied, 'Unknown passkey'),
  ERR_PASSKEY_VERIFICATION: entry(401, OAUTH_ERROR.accessDenied, 'Passkey verification failed'),
  ERR_PASSKEY_COUNTER: entry(401, OAUTH_ERROR.accessDenied, 'Passkey signature counter went backwards'),
  ERR_PASSKEY_WRONG_HUMAN: entry(403, OAUTH_ERROR.accessDenied, 'The passkey belongs to another human'),
  ERR_OIDC_CALLBACK: entry(400, OAUTH_ERROR.invalidRequest, 'OIDC sign-in failed'),
  ERR_OIDC_NO_HUMAN: entry(403, OAUTH_ERROR.accessDenied, 'No active human has this e-mail address'),
  ERR_OIDC_EMAIL_UNVERIFIED: entry(403, OAUTH_ERROR.accessDenied, 'The identity provider did not assert that the e-mail address is verified'),
  ERR_RESUME_NOT_APPROVER: entry(403, OAUTH_ERROR.accessDenied, 'Only the original approver may resume a mandate'),
  ERR_RESUME_ATTESTATION: entry(409, OAUTH_ERROR.invalidRequest, 'The agent has no fresh affirming attestation'),
  // Token Status List and OpenID SSF push (docs/revocation.md)
  ERR_STATUS_LIST_NOT_FOUND: entry(404, OAUTH_ERROR.invalidRequest, 'Status list not found'),
  ERR_SSF_UNAUTHENTICATED: entry(401, OAUTH_ERROR.invalidClient, 'Resource server authentication failed'),
  ERR_SSF_STREAM_NOT_FOUND: entry(404, OAUTH_ERROR.invalidRequest, 'Stream not found'),
  ERR_SSF_STREAM_INVALID: entry(400, OAUTH_ERROR.invalidRequest, 'Invalid stream configuration'),
  ERR_SSF_SUBJECT_INVALID: entry(400, OAUTH_ERROR.invalidRequest, 'Invalid subject'),
  ERR_SSF_SUBJECT_NOT_FOUND: entry(404, OAUTH_ERROR.invalidRequest, 'The stream does not hold this subject'),
  ERR_SSF_ENDPOINT_FORBIDDEN: entry(400, OAUTH_ERROR.invalidRequest, 'The delivery endpoint is not a public address'),
  ERR_SSF_STREAM_LIMIT: entry(409, OAUTH_ERROR.invalidRequest, 'This audience already holds the most streams allowed'),
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
