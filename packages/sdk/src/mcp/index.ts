/**
 * Mandate for MCP servers and clients (`@modelcontextprotocol/sdk`, Streamable HTTP): a guard that
 * verifies DPoP-bound Mandate tokens on every request to an MCP endpoint and maps tools to the
 * actions of the approved task, and a `fetch` that lets an agent's MCP client call with tokens it
 * keeps fresh. Nothing from the MCP SDK is imported at runtime: its objects are used structurally.
 *
 * @example
 * ```ts
 * import { createMcpGuard, createMcpFetch } from '@mandate/sdk/mcp';
 * ```
 *
 * @module
 */
export { createMcpGuard, type McpGuard } from './guard.ts';
export type { McpGuardOptions, ToolRule } from './options.ts';
export { createMcpFetch, type McpAgent, type McpFetch } from './agent-fetch.ts';
export { mandateOf } from './mandate-of.ts';
export { resourceMetadataUrl, withResourceMetadata } from './metadata.ts';
export { MCP_ERROR_CODE } from './messages.ts';
export type { RefusalData } from './tool-access.ts';
export type { GuardedRequest, JsonRpcMessage, McpAuthInfo, McpHttpTransport, McpNodeRequest, McpNodeResponse, TransportSource } from './types.ts';
