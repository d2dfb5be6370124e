import { VerifierError } from '../resource/errors.ts';
import { errorBody, MCP_ERROR_CODE } from './messages.ts';
import { withResourceMetadata } from './metadata.ts';
import type { Refusal } from './tool-access.ts';
import type { McpNodeResponse } from './types.ts';

/** Writes a whole JSON response; errors are never cached. */
export function reply(res: McpNodeResponse, status: number, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers });
  res.end(body);
}

/** `error.headers` with RFC 9728 §5.1 `resource_metadata` added to the challenge. */
function challengeHeaders(error: VerifierError, metadataUrl: string): Record<string, string> {
  const headers = error.headers;
  if (headers['WWW-Authenticate']) headers['WWW-Authenticate'] = withResourceMetadata(headers['WWW-Authenticate'], metadataUrl);
  return headers;
}

/**
 * A token the verifier refused: its status and challenge (RFC 6750 §3, RFC 9449 §7.1) and an
 * OAuth error body, as `nodeHttpAdapter` answers — this is HTTP authentication, not JSON-RPC.
 */
export function rejectToken(res: McpNodeResponse, error: VerifierError, metadataUrl: string): void {
  const code = error.status === 503 ? 'temporarily_unavailable' : error.error;
  const body = JSON.stringify(code ? { error: code, error_description: error.message } : { error_description: error.message });
  reply(res, error.status, body, challengeHeaders(error, metadataUrl));
}

/**
 * A request outside the mandate: HTTP 403 with `DPoP error="insufficient_scope"` (the MCP
 * authorization spec's scope challenge), and a JSON-RPC error answering the request's id with
 * what was missing, for clients that read the body.
 */
export function rejectRequest(res: McpNodeResponse, refusal: Refusal, metadataUrl: string): void {
  reply(res, 403, errorBody(MCP_ERROR_CODE.forbidden, refusal.error.message, refusal.id, { ...refusal.data }), challengeHeaders(refusal.error, metadataUrl));
}
