/**
 * Wire constants shared by the broker and the SDK: grant-type and token-type URNs, OAuth error
 * codes, JWT `typ` values, claim names. No logic lives here.
 *
 * @module
 */

/**
 * OAuth grant types the broker serves (RFC 8693, OpenID CIBA, RFC 6749).
 *
 * @example
 * ```ts
 * form.set('grant_type', GRANT_TYPE.tokenExchange);
 * ```
 */
export const GRANT_TYPE = {
  tokenExchange: 'urn:ietf:params:oauth:grant-type:token-exchange',
  ciba: 'urn:openid:params:grant-type:ciba',
  clientCredentials: 'client_credentials',
  refreshToken: 'refresh_token',
} as const;

/**
 * Token type URNs of RFC 8693 §3.
 *
 * @example
 * ```ts
 * form.set('subject_token_type', TOKEN_TYPE.refreshToken);
 * ```
 */
export const TOKEN_TYPE = {
  accessToken: 'urn:ietf:params:oauth:token-type:access_token',
  refreshToken: 'urn:ietf:params:oauth:token-type:refresh_token',
  jwt: 'urn:ietf:params:oauth:token-type:jwt',
} as const;

/**
 * PROTOCOL §10: the token type of a sub-grant (RFC 8693 §3 allows other URIs). A parent asks for
 * one as `requested_token_type`; the child redeems it as `subject_token_type`.
 *
 * @example
 * ```ts
 * form.set('requested_token_type', SUB_GRANT_TOKEN_TYPE);
 * ```
 */
export const SUB_GRANT_TOKEN_TYPE = 'urn:mandate:token-type:sub-grant';

/**
 * The token-exchange parameter naming the child agent of a sub-grant: it becomes the sub-grant's
 * `may_act.sub` (RFC 8693 §4.4), the only agent that may redeem it.
 *
 * @example
 * ```ts
 * form.set(MAY_ACT_SUB_PARAMETER, 'agt_child…');
 * ```
 */
export const MAY_ACT_SUB_PARAMETER = 'may_act_sub';

/**
 * Namespaced prefixes of the opaque grants the broker hands out: the mandate grant
 * (`refresh_token`) and the one-time sub-grant.
 *
 * @example
 * ```ts
 * const hint = token.startsWith(GRANT_PREFIX.subGrant) ? 'sub-grant' : 'mandate grant';
 * ```
 */
export const GRANT_PREFIX = {
  mandateGrant: 'mgr_',
  subGrant: 'sgr_',
} as const;

/**
 * RFC 7523 §2.2: the `client_assertion_type` of `private_key_jwt`.
 *
 * @example
 * ```ts
 * form.set('client_assertion_type', CLIENT_ASSERTION_TYPE);
 * ```
 */
export const CLIENT_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

/**
 * JOSE `typ` header values, each checked explicitly (RFC 8725 §3.11).
 *
 * @example
 * ```ts
 * await jwtVerify(token, keys, { typ: JWT_TYP.accessToken });
 * ```
 */
export const JWT_TYP = {
  accessToken: 'at+jwt',
  dpopProof: 'dpop+jwt',
  attestationResult: 'attestation-result+jwt',
  clientAuthentication: 'client-authentication+jwt',
  auditHead: 'audit-head+jwt',
  statusList: 'statuslist+jwt',
  securityEvent: 'secevent+jwt',
} as const;

/**
 * Error codes as RFC 6749, RFC 8693, RFC 9396, RFC 9449 and OpenID CIBA spell them.
 *
 * @example
 * ```ts
 * if (error.oauthError === OAUTH_ERROR.slowDown) interval += SLOW_DOWN_STEP_SECONDS;
 * ```
 */
export const OAUTH_ERROR = {
  invalidRequest: 'invalid_request',
  invalidClient: 'invalid_client',
  invalidGrant: 'invalid_grant',
  unauthorizedClient: 'unauthorized_client',
  unsupportedGrantType: 'unsupported_grant_type',
  unsupportedTokenType: 'unsupported_token_type',
  invalidScope: 'invalid_scope',
  invalidTarget: 'invalid_target',
  invalidAuthorizationDetails: 'invalid_authorization_details',
  invalidBindingMessage: 'invalid_binding_message',
  unknownUserId: 'unknown_user_id',
  invalidDpopProof: 'invalid_dpop_proof',
  useDpopNonce: 'use_dpop_nonce',
  authorizationPending: 'authorization_pending',
  slowDown: 'slow_down',
  accessDenied: 'access_denied',
  expiredToken: 'expired_token',
  serverError: 'server_error',
  temporarilyUnavailable: 'temporarily_unavailable',
} as const;

/**
 * One of the OAuth error codes above.
 *
 * @example
 * ```ts
 * const code: OAuthErrorCode = 'invalid_grant';
 * ```
 */
export type OAuthErrorCode = (typeof OAUTH_ERROR)[keyof typeof OAUTH_ERROR];

/**
 * Authorization details type for a task a human approves (RFC 9396).
 *
 * @example
 * ```ts
 * const task = { type: AGENT_TASK_TYPE, locations: ['https://api.example.com'], actions: ['read'] };
 * ```
 */
export const AGENT_TASK_TYPE = 'agent-task';

/**
 * Namespaced identifier prefixes (PROTOCOL §1).
 *
 * @example
 * ```ts
 * const isAgent = id.startsWith(ID_PREFIX.agent);
 * ```
 */
export const ID_PREFIX = {
  human: 'usr_',
  agent: 'agt_',
  mandate: 'mdt_',
  request: 'req_',
} as const;

/**
 * Paths served by the broker, relative to the issuer.
 *
 * @example
 * ```ts
 * const tokenEndpoint = issuer + BROKER_PATH.token;
 * ```
 */
export const BROKER_PATH = {
  metadata: '/.well-known/oauth-authorization-server',
  jwks: '/jwks',
  token: '/token',
  backchannelAuthorize: '/bc-authorize',
  introspect: '/introspect',
  revoke: '/revoke',
  challenge: '/challenge',
  attest: '/attest',
  /** TPM attestation-key enrolment by credential activation: start, then answer. */
  tpmEnrol: '/attest/tpm/enrol',
  tpmActivate: '/attest/tpm/activate',
} as const;

/**
 * Extensions to RFC 8414 metadata that name Mandate's own endpoints.
 *
 * @example
 * ```ts
 * const challengeUrl = metadata[METADATA_EXTENSION.challengeEndpoint];
 * ```
 */
export const METADATA_EXTENSION = {
  challengeEndpoint: 'challenge_endpoint',
  attestationEndpoint: 'attestation_endpoint',
  tpmEnrolmentEndpoint: 'tpm_enrolment_endpoint',
  tpmActivationEndpoint: 'tpm_activation_endpoint',
} as const;

/**
 * RFC 9728 §3: where a resource server publishes its metadata.
 *
 * @example
 * ```ts
 * if (req.url === PROTECTED_RESOURCE_METADATA_PATH) res.end(JSON.stringify(metadata));
 * ```
 */
export const PROTECTED_RESOURCE_METADATA_PATH = '/.well-known/oauth-protected-resource';

/**
 * Signature algorithms accepted for DPoP proofs, client assertions and access tokens.
 *
 * @example
 * ```ts
 * await jwtVerify(token, keys, { algorithms: [...SIGNING_ALGS] });
 * ```
 */
export const SIGNING_ALGS = ['ES256', 'EdDSA'] as const;

/**
 * HTTP header names beyond the usual ones (RFC 9449, draft-ietf-oauth-attestation-based-client-auth).
 *
 * @example
 * ```ts
 * headers.set(HTTP_HEADER.dpop, proof);
 * ```
 */
export const HTTP_HEADER = {
  dpop: 'DPoP',
  dpopNonce: 'DPoP-Nonce',
  clientAttestation: 'OAuth-Client-Attestation',
  clientAttestationPop: 'OAuth-Client-Attestation-PoP',
} as const;

/**
 * `typ` of the proof of possession sent with `OAuth-Client-Attestation`.
 *
 * @example
 * ```ts
 * new SignJWT({}).setProtectedHeader({ alg: 'ES256', typ: CLIENT_ATTESTATION_POP_TYP });
 * ```
 */
export const CLIENT_ATTESTATION_POP_TYP = 'oauth-client-attestation-pop+jwt';

/**
 * The private claim carrying the attestation summary in access tokens (RFC 7519 §4.2).
 *
 * @example
 * ```ts
 * const summary = claims[ATTESTATION_CLAIM] as { status: string };
 * ```
 */
export const ATTESTATION_CLAIM = 'urn:mandate:attestation';

/**
 * `sub_profile` / `act.sub_profile` value naming an AI agent (RFC 8693 §4.1 profile).
 *
 * @example
 * ```ts
 * const autonomous = claims.act === undefined && claims.sub_profile === SUB_PROFILE_AI_AGENT;
 * ```
 */
export const SUB_PROFILE_AI_AGENT = 'ai_agent';

/**
 * Prefix of the audience an agent requests for nonce-bound evidence tokens (PROTOCOL §3).
 *
 * @example
 * ```ts
 * const isBound = String(aud).startsWith(EVIDENCE_AUDIENCE_PREFIX);
 * ```
 */
export const EVIDENCE_AUDIENCE_PREFIX = 'mandate:';

/**
 * How a delegation was approved, as carried in `authorization_details[0].delegation.method`.
 *
 * @example
 * ```ts
 * if (task.delegation?.method === APPROVAL_METHOD.adminToken) console.warn('approved without a passkey');
 * ```
 */
export const APPROVAL_METHOD = {
  passkey: 'passkey',
  adminToken: 'admin_token',
} as const;

/**
 * Machine-readable `mandate_error` members the broker adds to OAuth errors (PROTOCOL §5).
 *
 * @example
 * ```ts
 * if (error.mandateError === MANDATE_ERROR.mandateRevoked) process.exit(1);
 * ```
 */
export const MANDATE_ERROR = {
  attestationStale: 'attestation_stale',
  attestationContraindicated: 'attestation_contraindicated',
  mandateRevoked: 'mandate_revoked',
  mandateExhausted: 'mandate_exhausted',
  mandateExpired: 'mandate_expired',
  mandateSuspended: 'mandate_suspended',
} as const;

/**
 * OpenID CIBA §7.3: the poll interval grows by at least this much after `slow_down`.
 *
 * @example
 * ```ts
 * interval += SLOW_DOWN_STEP_SECONDS;
 * ```
 */
export const SLOW_DOWN_STEP_SECONDS = 5;

/**
 * RFC 6750 §3.1 / RFC 9449 §7.1: error codes a resource server puts in `WWW-Authenticate`.
 *
 * @example
 * ```ts
 * res.setHeader('WWW-Authenticate', `DPoP error="${RESOURCE_ERROR.invalidToken}"`);
 * ```
 */
export const RESOURCE_ERROR = {
  invalidToken: 'invalid_token',
  invalidDpopProof: 'invalid_dpop_proof',
  useDpopNonce: 'use_dpop_nonce',
  insufficientScope: 'insufficient_scope',
} as const;

/**
 * `authorization_details[0].delegation` in access tokens: who approved the task, and how.
 *
 * @example
 * ```ts
 * const { approved_by, method }: Delegation = result.task.delegation!;
 * ```
 */
export interface Delegation {
  /** The mandate id (`mdt_…`). */
  id: string;
  approved_by: string;
  /** Epoch seconds. */
  approved_at: number;
  method: (typeof APPROVAL_METHOD)[keyof typeof APPROVAL_METHOD];
  /** SHA-256 of the RFC 8785 canonical task document (PROTOCOL §4). */
  task_s256: string;
}

/**
 * One `agent-task` authorization details object (RFC 9396) as it travels on the wire.
 *
 * @example
 * ```ts
 * const task: AgentTask = { type: 'agent-task', locations: ['https://api.example.com'], actions: ['read'], constraints: { notAfter: 1767225600 } };
 * ```
 */
export interface AgentTask {
  type: typeof AGENT_TASK_TYPE;
  purpose?: string;
  /** Exactly one entry: the audience. */
  locations: string[];
  actions: string[];
  datatypes?: string[];
  identifier?: string;
  constraints?: { notAfter: number; maxUses?: number; [name: string]: unknown };
  /** Present in access tokens of delegated (human-approved) grants. */
  delegation?: Delegation;
  [name: string]: unknown;
}
