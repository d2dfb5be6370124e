import { HTTP_HEADER } from '../protocol/index.ts';
import { epochSeconds } from './clock.ts';
import type { AgentContext } from './context.ts';
import { createDpopProof } from './proofs.ts';

/**
 * `fetch` options plus the resource (audience) whose token to use.
 *
 * @example
 * ```ts
 * await agent.fetch('https://api.example.com/v1/issues', { method: 'POST', body, resource: 'https://api.example.com' });
 * ```
 */
export interface DpopFetchInit extends RequestInit {
  /** The audience the request is for; defaults to the longest known resource that prefixes the URL, else its origin. */
  resource?: string;
}

/** RFC 9449 §7.1 / §9: an RS asking for a nonce answers 401 with `DPoP error="use_dpop_nonce"`. */
const NONCE_CHALLENGE = /(^|,)\s*DPoP\b[^]*\berror\s*=\s*"?use_dpop_nonce"?/i;

/**
 * Calls a resource server with `Authorization: DPoP <token>` and a fresh proof carrying `ath`
 * (RFC 9449 §7). Retries once when the server asks for a DPoP nonce. The body is replayed from a
 * clone of the request, so streaming bodies work for the retry too.
 */
export async function dpopFetch(
  ctx: AgentContext,
  token: (resource: string) => Promise<string>,
  knownResources: () => string[],
  input: string | URL | Request,
  init: DpopFetchInit = {},
): Promise<Response> {
  const { resource: explicit, ...requestInit } = init;
  const request = new Request(input, requestInit);
  const resource = explicit ?? resourceFor(request.url, knownResources());
  const accessToken = await token(resource);
  const attempt = async (nonce: string | undefined) => {
    const headers = new Headers(request.headers);
    headers.set('authorization', `DPoP ${accessToken}`);
    const proof = await createDpopProof(ctx.dpop, { htm: request.method, htu: request.url, nowSeconds: epochSeconds(ctx.clock), accessToken, ...(nonce ? { nonce } : {}) });
    headers.set(HTTP_HEADER.dpop, proof);
    const response = await ctx.transport.fetch(new Request(request.clone(), { headers }));
    ctx.transport.rememberNonce(request.url, response);
    return response;
  };
  const first = await attempt(ctx.transport.nonceFor(request.url));
  if (first.status !== 401 || !NONCE_CHALLENGE.test(first.headers.get('www-authenticate') ?? '')) return first;
  const nonce = first.headers.get(HTTP_HEADER.dpopNonce);
  if (!nonce) return first;
  await first.body?.cancel();
  return attempt(nonce);
}

/** The longest known resource that is a prefix of `url` at a path boundary, else the URL's origin. */
export function resourceFor(url: string, resources: string[]): string {
  const matches = resources.filter((r) => url === r || url.startsWith(r.endsWith('/') ? r : `${r}/`) || url.startsWith(`${r}?`));
  matches.sort((a, b) => b.length - a.length);
  return matches[0] ?? new URL(url).origin;
}
