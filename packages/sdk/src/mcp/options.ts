import { ConfigurationError } from '../errors.ts';
import type { Verifier } from '../resource/verifier.ts';

/**
 * What one tool needs from the approved task: an action, and optionally the datatype it touches
 * and the resource it touches, read from the call's arguments (see `requireAction`).
 *
 * @example
 * ```ts
 * const rule: ToolRule = { action: 'write', datatype: 'items', identifier: (args) => String(args.id) };
 * ```
 */
export interface ToolRule {
  action: string;
  datatype?: string;
  /** The resource a call touches, from its `arguments`; compared with the task's `identifier`. */
  identifier?: (args: Record<string, unknown>) => string | undefined;
}

/**
 * Options of `createMcpGuard`.
 *
 * @example
 * ```ts
 * const options: McpGuardOptions = {
 *   verifier,
 *   authorizationServers: ['http://localhost:7420'],
 *   tools: { read_items: 'read', delete_item: { action: 'write', datatype: 'items' } },
 * };
 * ```
 */
export interface McpGuardOptions {
  /** The SDK verifier (`createVerifier`) for this server's audience. */
  verifier: Verifier;
  /** Issuers whose tokens are accepted (the broker), published in the RFC 9728 metadata. */
  authorizationServers: string[];
  /** Tool name → the action (or rule) a `tools/call` needs. A tool not listed is never callable. */
  tools: Record<string, string | ToolRule>;
  /** Other JSON-RPC methods → the action they need (e.g. `resources/read`); unlisted methods need a valid token only. */
  methods?: Record<string, string>;
  /** Hide from `tools/list` the tools the caller's mandate does not allow. Default true. */
  filterToolsList?: boolean;
  /** The MCP endpoint's path. Default `/mcp`. */
  path?: string;
  /** The RFC 9728 resource identifier. Default: the verifier's audience. */
  resource?: string;
  /** Where the metadata is published. Default: derived from `resource` (RFC 9728 §3.1). */
  resourceMetadataUrl?: string;
  /** Further RFC 9728 members (`resource_name`, `resource_documentation`, …). */
  metadata?: Record<string, unknown>;
  /** Largest request body accepted, in bytes. Default 1 MiB. */
  maxBodyBytes?: number;
  /** Send a fresh `DPoP-Nonce` on every response; set it when the verifier requires nonces. Default false. */
  dpopNonce?: boolean;
  /** Sessions remembered with the caller that opened them (oldest forgotten first). Default 10 000. */
  maxSessions?: number;
  /** Told about unexpected errors (answered 500); nothing secret is passed. */
  onError?: (error: unknown) => void;
}

const ACTION = /^[\x21-\x7e]{1,128}$/;

/** Checks every option with a message that names it. */
export function checkGuardOptions(options: McpGuardOptions): void {
  const fail = (message: string): never => {
    throw new ConfigurationError(message);
  };
  if (typeof options !== 'object' || options === null) fail('options must be an object');
  if (typeof options.verifier?.verifyRequest !== 'function') fail('verifier must be a verifier from createVerifier');
  if (!Array.isArray(options.authorizationServers) || options.authorizationServers.length === 0) fail('authorizationServers must list at least one issuer');
  if (typeof options.tools !== 'object' || options.tools === null) fail('tools must map tool names to actions');
  for (const [name, rule] of Object.entries(options.tools)) if (!ACTION.test(actionOf(rule) ?? '')) fail(`tools.${name} must name an action`);
  for (const [name, action] of Object.entries(options.methods ?? {})) if (!ACTION.test(action)) fail(`methods.${name} must name an action`);
  if (options.path !== undefined && !/^\/[^?#]*$/.test(options.path)) fail('path must start with / and have no query');
  if (options.resourceMetadataUrl !== undefined && !/^https?:\/\//.test(options.resourceMetadataUrl)) fail('resourceMetadataUrl must be an http(s) URL');
  for (const name of ['maxBodyBytes', 'maxSessions'] as const)
    if (options[name] !== undefined && !(Number.isInteger(options[name]) && options[name]! > 0)) fail(`${name} must be a positive integer`);
}

/** The action of a rule given as a string or an object. */
export function actionOf(rule: string | ToolRule | undefined): string | undefined {
  return typeof rule === 'string' ? rule : rule?.action;
}
