import { AGENT_TASK_TYPE, SIGNING_ALGS } from '../protocol/index.ts';
import { ConfigurationError } from '../errors.ts';

/**
 * Input of `protectedResourceMetadata`.
 *
 * @example
 * ```ts
 * protectedResourceMetadata({ resource, authorizationServers: [issuer], extra: { resource_name: 'Issues API' } });
 * ```
 */
export interface ProtectedResourceMetadataInput {
  /** This resource server's identifier (its audience URI). */
  resource: string;
  /** Issuers whose tokens it accepts (the Mandate broker). */
  authorizationServers: string[];
  /** Further RFC 9728 members (`resource_name`, `resource_documentation`, …). */
  extra?: Record<string, unknown>;
}

/**
 * RFC 9728 §2 protected-resource metadata for a resource server that accepts Mandate tokens, to
 * serve at `/.well-known/oauth-protected-resource`.
 *
 * @example
 * ```ts
 * const body = protectedResourceMetadata({ resource: 'https://api.example.com', authorizationServers: ['http://localhost:7420'] });
 * res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
 * ```
 */
export function protectedResourceMetadata(input: ProtectedResourceMetadataInput): Record<string, unknown> {
  if (typeof input?.resource !== 'string' || input.resource === '') throw new ConfigurationError('resource is required');
  if (!Array.isArray(input.authorizationServers) || input.authorizationServers.length === 0)
    throw new ConfigurationError('authorizationServers must list at least one issuer');
  return {
    ...input.extra,
    resource: input.resource,
    authorization_servers: input.authorizationServers,
    bearer_methods_supported: ['header'],
    dpop_bound_access_tokens_required: true,
    dpop_signing_alg_values_supported: [...SIGNING_ALGS],
    authorization_details_types_supported: [AGENT_TASK_TYPE],
  };
}
