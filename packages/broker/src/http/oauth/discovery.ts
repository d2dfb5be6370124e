import { AGENT_TASK_TYPE, BROKER_PATH, GRANT_TYPE } from '@mandate/sdk/protocol';
import { defineRoute, respond, type RouteContext } from '../route-spec.ts';

/** Public documents may be cached briefly; a rotation is published ahead of use (PROTOCOL §7). */
const PUBLIC_CACHE = { 'cache-control': 'public, max-age=60' };

/**
 * RFC 8414 §2 metadata. Every URL derives from the configured issuer only, never from `Host` or
 * `X-Forwarded-*` (PROTOCOL §1). `response_types_supported` is required by RFC 8414 and is empty:
 * there is no authorization endpoint. `challenge_endpoint`, `attestation_endpoint` and the two TPM
 * enrolment endpoints are Mandate's own members (RFC 8414 §2 allows extensions).
 */
export function authorizationServerMetadata(issuer: string): Record<string, unknown> {
  const algs = ['ES256', 'EdDSA'];
  return {
    issuer,
    jwks_uri: issuer + BROKER_PATH.jwks,
    token_endpoint: issuer + BROKER_PATH.token,
    backchannel_authentication_endpoint: issuer + BROKER_PATH.backchannelAuthorize,
    introspection_endpoint: issuer + BROKER_PATH.introspect,
    revocation_endpoint: issuer + BROKER_PATH.revoke,
    challenge_endpoint: issuer + BROKER_PATH.challenge,
    attestation_endpoint: issuer + BROKER_PATH.attest,
    tpm_enrolment_endpoint: issuer + BROKER_PATH.tpmEnrol,
    tpm_activation_endpoint: issuer + BROKER_PATH.tpmActivate,
    response_types_supported: [],
    grant_types_supported: [GRANT_TYPE.ciba, GRANT_TYPE.tokenExchange, GRANT_TYPE.clientCredentials],
    backchannel_token_delivery_modes_supported: ['poll'],
    backchannel_user_code_parameter_supported: false,
    token_endpoint_auth_methods_supported: ['private_key_jwt'],
    // RFC 8414 §2: required when private_key_jwt is listed; agents hold P-256 or Ed25519 keys.
    token_endpoint_auth_signing_alg_values_supported: algs,
    revocation_endpoint_auth_methods_supported: ['private_key_jwt'],
    revocation_endpoint_auth_signing_alg_values_supported: algs,
    introspection_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
    dpop_signing_alg_values_supported: algs,
    authorization_details_types_supported: [AGENT_TASK_TYPE],
  };
}

function serveMetadata(ctx: RouteContext): void {
  respond(ctx, 200, authorizationServerMetadata(ctx.deps.config.issuer), PUBLIC_CACHE);
}

/** RFC 7517 §5: public members only (the key service publishes public JWKs). */
function serveJwks(ctx: RouteContext): void {
  respond(ctx, 200, ctx.deps.keys.publishedJwks(), PUBLIC_CACHE);
}

export const discoveryRoutes = [
  defineRoute({
    method: 'GET', path: BROKER_PATH.metadata, family: 'oauth', body: 'none',
    summary: 'OAuth authorization server metadata (RFC 8414)', schema: {}, steps: [serveMetadata],
  }),
  defineRoute({
    method: 'GET', path: BROKER_PATH.jwks, family: 'oauth', body: 'none',
    summary: 'Published signing keys (RFC 7517 JWK Set)', schema: {}, steps: [serveJwks],
  }),
];
