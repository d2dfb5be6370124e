import { headerValues } from '../util/headers.ts';
import { MCP_ERROR_CODE } from './messages.ts';
import type { McpNodeRequest } from './types.ts';

/** A body the guard could not read: the HTTP status and the JSON-RPC error to answer with. */
export interface BodyFailure {
  status: 400 | 413;
  code: number;
  message: string;
}

/** Read once, here: the transport gets this parsed value, so guard and server see the same messages. */
export type ReadBody = { ok: true; value: unknown } | ({ ok: false } & BodyFailure);

const TOO_LARGE: BodyFailure = { status: 413, code: MCP_ERROR_CODE.server, message: 'Request body too large' };

/**
 * Reads and parses a JSON request body of at most `maxBytes`, refusing a larger declared
 * `Content-Length` before reading anything.
 */
export async function readJsonBody(req: McpNodeRequest, maxBytes: number): Promise<ReadBody> {
  const declared = Number(headerValues(req.headers, 'content-length')[0] ?? 0);
  if (declared > maxBytes) return { ok: false, ...TOO_LARGE };
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    size += bytes.byteLength;
    if (size > maxBytes) return { ok: false, ...TOO_LARGE };
    chunks.push(bytes);
  }
  try {
    return { ok: true, value: JSON.parse(Buffer.concat(chunks).toString('utf8')) };
  } catch {
    return { ok: false, status: 400, code: MCP_ERROR_CODE.parseError, message: 'Parse error: the body is not JSON' };
  }
}
