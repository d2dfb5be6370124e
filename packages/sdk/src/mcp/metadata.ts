import { ConfigurationError } from '../errors.ts';
import { PROTECTED_RESOURCE_METADATA_PATH } from '../protocol/index.ts';

/**
 * RFC 9728 §3.1: the metadata URL of a resource identifier — `/.well-known/oauth-protected-resource`
 * inserted between its host and its path (a lone terminating slash removed), its query kept.
 * This is where MCP clients look when no `resource_metadata` is given (MCP authorization, §2.3).
 *
 * @example
 * ```ts
 * resourceMetadataUrl('https://mcp.example.com/mcp'); // 'https://mcp.example.com/.well-known/oauth-protected-resource/mcp'
 * ```
 */
export function resourceMetadataUrl(resource: string): string {
  if (!/^https?:\/\//i.test(resource) || !URL.canParse(resource))
    throw new ConfigurationError('the resource is not an http(s) URL: give resourceMetadataUrl explicitly');
  const url = new URL(resource);
  const path = url.pathname === '/' ? '' : url.pathname;
  return `${url.origin}${PROTECTED_RESOURCE_METADATA_PATH}${path}${url.search}`;
}

/**
 * Adds RFC 9728 §5.1 `resource_metadata` to a `WWW-Authenticate` challenge, so that a client
 * refused by this server learns where its metadata (and so its broker) is.
 *
 * @example
 * ```ts
 * withResourceMetadata('DPoP algs="ES256 EdDSA"', 'https://mcp.example.com/.well-known/oauth-protected-resource/mcp');
 * // 'DPoP algs="ES256 EdDSA", resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp"'
 * ```
 */
export function withResourceMetadata(challenge: string, metadataUrl: string): string {
  // The URL parser percent-encodes `"` and never leaves `\`: the value is a valid quoted-string.
  return `${challenge}, resource_metadata="${new URL(metadataUrl).href}"`;
}
