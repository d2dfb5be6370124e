import { BROKER_PATH } from '@mandate/sdk/protocol';
import { defineRoute, respond, type RouteContext } from '../route-spec.ts';

/** Public documents may be cached briefly; a rotation is published ahead of use (PROTOCOL §7). */
const PUBLIC_CACHE = { 'cache-control': 'public, max-age=60' };

/**
 * RFC 8414 §2 metadata. Every URL derives from the configured issuer only, never from `Host` or
 * `X-Forwarded-*` (PROTOCOL §1). Only what is served today is listed; `response_types_supported`
 * is required by RFC 8414 and is empty because there is no authorization endpoint.
 */
export function authorizationServerMetadata(issuer: string): Record<string, unknown> {
  return {
    issuer,
    jwks_uri: issuer + BROKER_PATH.jwks,
    response_types_supported: [],
    grant_types_supported: [],
    token_endpoint_auth_methods_supported: ['private_key_jwt'],
    // RFC 8414 §2: required when private_key_jwt is listed; agents hold P-256 or Ed25519 keys.
    token_endpoint_auth_signing_alg_values_supported: ['ES256', 'EdDSA'],
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
