import type { VerifiedRequest } from '../resource/verifier.ts';
import { allowsTool, type AccessRules } from './tool-access.ts';
import type { JsonRpcMessage, McpHttpTransport } from './types.ts';

/**
 * Filters `tools/list` results to the tools the caller's mandate allows. The MCP server answers
 * `tools/list` from its own registry; the filter sits on the transport's `send` (its public
 * `Transport` method) and rewrites the response to a request it was told about, by id. Ids are
 * remembered per transport, since each session numbers its requests from 0, and forgotten when
 * answered (every request is answered, with a result or an error).
 */
export interface ToolsListFilter {
  /** Remembers that request `id` on `transport` is a `tools/list` by the caller of `mandate`. */
  expect(transport: McpHttpTransport, id: unknown, mandate: VerifiedRequest): void;
}

export function createToolsListFilter(rules: AccessRules): ToolsListFilter {
  const pending = new WeakMap<McpHttpTransport, Map<unknown, VerifiedRequest>>();

  const filter = (message: JsonRpcMessage, mandate: VerifiedRequest): JsonRpcMessage => {
    const result = message.result as { tools?: unknown } | undefined;
    if (typeof result !== 'object' || result === null || !Array.isArray(result.tools)) return message;
    const tools = result.tools.filter((tool: { name?: unknown }) => typeof tool?.name === 'string' && allowsTool(mandate, rules, tool.name));
    return { ...message, result: { ...result, tools } };
  };

  const wrap = (transport: McpHttpTransport, byId: Map<unknown, VerifiedRequest>) => {
    const send = transport.send.bind(transport) as (message: JsonRpcMessage, options?: unknown) => Promise<void>;
    transport.send = ((message: JsonRpcMessage, options?: unknown) => {
      const mandate = message?.id === undefined || message.method !== undefined ? undefined : byId.get(message.id);
      if (mandate === undefined) return send(message, options);
      byId.delete(message.id);
      return send(filter(message, mandate), options);
    }) as McpHttpTransport['send'];
  };

  return {
    expect(transport, id, mandate) {
      let byId = pending.get(transport);
      if (!byId) {
        byId = new Map();
        pending.set(transport, byId);
        wrap(transport, byId);
      }
      byId.set(id, mandate);
    },
  };
}
