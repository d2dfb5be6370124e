/**
 * Wire constants shared by the broker and the SDK: grant-type and token-type URNs, OAuth error
 * codes, JWT `typ` values, claim names. No logic lives here.
 */

export const GRANT_TYPE = {
  tokenExchange: 'urn:ietf:params:oauth:grant-type:token-exchange',
  ciba: 'urn:openid:params:grant-type:ciba',
  clientCredentials: 'client_credentials',
  refreshToken: 'refresh_token',
} as const;

export const TOKEN_TYPE = {
  accessToken: 'urn:ietf:params:oauth:token-type:access_token',
  refreshToken: 'urn:ietf:params:oauth:token-type:refresh_token',
  jwt: 'urn:ietf:params:oauth:token-type:jwt',
} as const;

export const CLIENT_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

/** JOSE `typ` header values, each checked explicitly (RFC 8725 §3.11). */
export const JWT_TYP = {
  accessToken: 'at+jwt',
  dpopProof: 'dpop+jwt',
  attestationResult: 'attestation-result+jwt',
  clientAuthentication: 'client-authentication+jwt',
  auditHead: 'audit-head+jwt',
  statusList: 'statuslist+jwt',
  securityEvent: 'secevent+jwt',
} as const;

/** Error codes as RFC 6749, RFC 8693, RFC 9396, RFC 9449 and OpenID CIBA spell them. */
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

export type OAuthErrorCode = (typeof OAUTH_ERROR)[keyof typeof OAUTH_ERROR];

/** Authorization details type for a task a human approves (RFC 9396). */
export const AGENT_TASK_TYPE = 'agent-task';

/** Namespaced identifier prefixes (PROTOCOL §1). */
export const ID_PREFIX = {
  human: 'usr_',
  agent: 'agt_',
  mandate: 'mdt_',
  request: 'req_',
} as const;

/** Paths served by the broker, relative to the issuer. */
export const BROKER_PATH = {
  metadata: '/.well-known/oauth-authorization-server',
  jwks: '/jwks',
  token: '/token',
  backchannelAuthorize: '/bc-authorize',
  introspect: '/introspect',
  revoke: '/revoke',
  challenge: '/challenge',
  attest: '/attest',
} as const;
