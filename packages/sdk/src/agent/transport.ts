import { HTTP_HEADER, OAUTH_ERROR } from '../protocol/index.ts';
import { AccessDeniedError, ExpiredRequestError, OAuthResponseError, ResponseFormatError, type OAuthErrorBody } from '../errors.ts';
import { epochSeconds, type Clock } from './clock.ts';
import type { DpopKey } from './keys.ts';
import { createDpopProof } from './proofs.ts';

/** One request to the authorization server; rebuilt on a retry so that every `jti` is fresh. */
export interface AsRequest {
  url: string;
  /** Form fields (sent as `application/x-www-form-urlencoded`) or a JSON body. */
  build: () => Promise<{ form?: Record<string, string>; json?: unknown; headers?: Record<string, string> }>;
  /** Whether the request carries a DPoP proof. */
  dpop: boolean;
  /** An empty 2xx body is a success (RFC 7009 §2.2). */
  emptyOk?: boolean;
}

export type JsonObject = Record<string, unknown>;

export interface Transport {
  /** POSTs to the authorization server; retries once on `use_dpop_nonce` (RFC 9449 §8). */
  callAs(request: AsRequest): Promise<JsonObject>;
  /** The last `DPoP-Nonce` an origin sent, if any. */
  nonceFor(url: string): string | undefined;
  /** Records the `DPoP-Nonce` of a response (RFC 9449 §8.2: any response may carry a new one). */
  rememberNonce(url: string, response: Response): void;
  fetch: typeof fetch;
}

export function createTransport(deps: { fetch: typeof fetch; clock: Clock; dpop: DpopKey }): Transport {
  const nonces = new Map<string, string>();
  const nonceFor = (url: string) => nonces.get(new URL(url).origin);
  const rememberNonce = (url: string, response: Response) => {
    const nonce = response.headers.get(HTTP_HEADER.dpopNonce);
    if (nonce) nonces.set(new URL(url).origin, nonce);
  };

  const send = async (request: AsRequest): Promise<Response> => {
    const { form, json, headers } = await request.build();
    const init: RequestInit = { method: 'POST', headers: { accept: 'application/json', ...headers }, redirect: 'error' };
    const target = init.headers as Record<string, string>;
    if (form) {
      init.body = new URLSearchParams(form).toString();
      target['content-type'] = 'application/x-www-form-urlencoded';
    } else {
      init.body = JSON.stringify(json);
      target['content-type'] = 'application/json';
    }
    if (request.dpop) {
      const nonce = nonceFor(request.url);
      target[HTTP_HEADER.dpop] = await createDpopProof(deps.dpop, { htm: 'POST', htu: request.url, nowSeconds: epochSeconds(deps.clock), ...(nonce ? { nonce } : {}) });
    }
    const response = await deps.fetch(request.url, init);
    rememberNonce(request.url, response);
    return response;
  };

  const callAs = async (request: AsRequest): Promise<JsonObject> => {
    let response = await send(request);
    let body = await readJson(response, request.url);
    if (request.dpop && response.status === 400 && body?.error === OAUTH_ERROR.useDpopNonce && response.headers.has(HTTP_HEADER.dpopNonce)) {
      response = await send(request);
      body = await readJson(response, request.url);
    }
    if (!response.ok) throw oauthError(response.status, body, request.url);
    if (body === null && request.emptyOk) return {};
    if (body === null) throw new ResponseFormatError(`expected a JSON object (HTTP ${response.status})`, request.url);
    return body;
  };

  return { callAs, nonceFor, rememberNonce, fetch: deps.fetch };
}

async function readJson(response: Response, url: string): Promise<JsonObject | null> {
  const text = await response.text();
  if (text === '') return null;
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as JsonObject) : null;
  } catch {
    if (response.ok) throw new ResponseFormatError(`response is not JSON (HTTP ${response.status})`, url);
    return null;
  }
}

/** RFC 6749 §5.2 error body → the matching error class. */
function oauthError(status: number, body: JsonObject | null, url: string): Error {
  if (typeof body?.error !== 'string') return new ResponseFormatError(`HTTP ${status} without an OAuth error body`, url);
  const parsed: OAuthErrorBody = { error: body.error };
  if (typeof body.error_description === 'string') parsed.error_description = body.error_description;
  if (typeof body.mandate_error === 'string') parsed.mandate_error = body.mandate_error;
  if (parsed.error === OAUTH_ERROR.accessDenied) return new AccessDeniedError(status, parsed);
  if (parsed.error === OAUTH_ERROR.expiredToken) return new ExpiredRequestError(status, parsed);
  return new OAuthResponseError(status, parsed);
}
