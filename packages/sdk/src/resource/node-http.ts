import type { HeaderBag } from '../util/headers.ts';
import { VerifierError } from './errors.ts';
import type { VerifiedRequest, Verifier } from './verifier.ts';

/**
 * The parts of a node:http `IncomingMessage` the adapter reads (structural: no node import).
 *
 * @example
 * ```ts
 * const { agentId } = await nodeHttpAdapter(verifier).authenticate(req); // req: IncomingMessage
 * ```
 */
export interface NodeRequestLike {
  method?: string | undefined;
  url?: string | undefined;
  headers: HeaderBag;
}

/**
 * The parts of a node:http `ServerResponse` the adapter writes.
 *
 * @example
 * ```ts
 * nodeHttpAdapter(verifier).reject(res, error); // res: ServerResponse
 * ```
 */
export interface NodeResponseLike {
  writeHead(status: number, headers: Record<string, string>): unknown;
  end(body?: string): unknown;
}

/**
 * Adapts a verifier to node:http: `authenticate(req)` verifies, `reject(res, error)` answers a
 * `VerifierError` with its status and headers (and rethrows anything else).
 *
 * @example
 * ```ts
 * const auth = nodeHttpAdapter(verifier);
 * createServer(async (req, res) => {
 *   try {
 *     const { agentId } = await auth.authenticate(req);
 *     res.end(`hello ${agentId}`);
 *   } catch (error) {
 *     auth.reject(res, error);
 *   }
 * });
 * ```
 */
export function nodeHttpAdapter(verifier: Verifier) {
  return {
    authenticate: (req: NodeRequestLike): Promise<VerifiedRequest> =>
      verifier.verifyRequest({ method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headers }),
    reject(res: NodeResponseLike, error: unknown): void {
      if (!(error instanceof VerifierError)) throw error;
      const code = error.status === 503 ? 'temporarily_unavailable' : error.error;
      const body = JSON.stringify(code ? { error: code, error_description: error.message } : { error_description: error.message });
      res.writeHead(error.status, { ...error.headers, 'content-type': 'application/json', 'cache-control': 'no-store' });
      res.end(body);
    },
  };
}
