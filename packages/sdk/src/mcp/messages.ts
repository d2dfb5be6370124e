import type { JsonRpcMessage } from './types.ts';

/**
 * JSON-RPC error codes the guard answers with. `parseError`, `invalidRequest` and
 * `internalError` are JSON-RPC 2.0 §5.1; `server` (-32000) is what the MCP SDK's own transport sends for an oversized body;
 * `sessionNotFound` (-32001) is what it sends for an unknown session; `forbidden` (-32003, in the
 * implementation-defined server range) marks a call the mandate does not allow.
 *
 * @example
 * ```ts
 * if (error.code === MCP_ERROR_CODE.forbidden) console.error('outside the mandate');
 * ```
 */
export const MCP_ERROR_CODE = {
  parseError: -32700,
  invalidRequest: -32600,
  internalError: -32603,
  server: -32000,
  sessionNotFound: -32001,
  forbidden: -32003,
} as const;

/** The messages of a body: one message or a batch; anything else is not a JSON-RPC body. */
export function messagesOf(body: unknown): JsonRpcMessage[] | null {
  const list = Array.isArray(body) ? body : [body];
  if (list.length === 0 || !list.every((m) => typeof m === 'object' && m !== null && !Array.isArray(m))) return null;
  return list as JsonRpcMessage[];
}

/** JSON-RPC 2.0 §4: a request has a `method` and an `id`; a notification has no `id`. */
export function isRequest(message: JsonRpcMessage, method?: string): boolean {
  const id = message.id;
  if (typeof message.method !== 'string' || (typeof id !== 'string' && typeof id !== 'number')) return false;
  return method === undefined || message.method === method;
}

/** A JSON-RPC error response body (`id` null when no single request is answered). */
export function errorBody(code: number, message: string, id: unknown = null, data?: Record<string, unknown>): string {
  const safeId = typeof id === 'string' || typeof id === 'number' ? id : null;
  return JSON.stringify({ jsonrpc: '2.0', id: safeId, error: { code, message, ...(data ? { data } : {}) } });
}

/** The `params` of a message as an object (empty when absent or not an object). */
export function paramsOf(message: JsonRpcMessage): Record<string, unknown> {
  const params = message.params;
  return typeof params === 'object' && params !== null && !Array.isArray(params) ? (params as Record<string, unknown>) : {};
}
