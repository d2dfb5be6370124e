import { readFileSync } from 'node:fs';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { z } from 'zod';

/** Where and as whom to ask the API server (`tokenReview` in the config). */
export interface TokenReviewConfig {
  url: string;
  bearerTokenFile: string;
  caFile?: string | undefined;
}

/** What the API server answered in `status` (authentication.k8s.io/v1 TokenReviewStatus). */
export interface TokenReviewStatus {
  authenticated: boolean;
  /** The requested audiences the token is valid for; empty from an audience-unaware authenticator. */
  audiences: string[];
  username?: string | undefined;
  extra: Record<string, string[]>;
}

export interface TokenReviewer {
  review(token: string, audiences: readonly string[]): Promise<TokenReviewStatus>;
}

/**
 * The API server could not be asked or gave no TokenReview: a fault of the cluster or the config, not of the evidence.
 *
 * @example
 * try { await reviewer.review(token, [audience]); } catch (error) { if (error instanceof ReviewUnavailableError) answer503(); }
 */
export class ReviewUnavailableError extends Error {
  override readonly name = 'ReviewUnavailableError';
}

const REVIEW_PATH = '/apis/authentication.k8s.io/v1/tokenreviews';
const TIMEOUT_MS = 5000;
const MAX_RESPONSE_BYTES = 65_536;
/** kubelet rotates a projected token at 80 % of its life (≥ 10 min); client-go re-reads it every minute too. */
const BEARER_REREAD_MS = 60_000;

const reviewResponse = z.object({
  kind: z.literal('TokenReview'),
  status: z.object({
    authenticated: z.boolean().optional(),
    audiences: z.array(z.string()).optional(),
    user: z.object({ username: z.string().optional(), extra: z.record(z.string(), z.array(z.string())).optional() }).optional(),
  }),
});

/**
 * A TokenReview client (Kubernetes API `authentication.k8s.io/v1`). The CA is read once here, the
 * broker's own bearer token at most once a minute. The response echoes the reviewed token, so its
 * body never reaches an error message or a log.
 *
 * @example
 * const reviewer = createTokenReviewer({ url: 'https://kubernetes.default.svc', bearerTokenFile: '/var/run/secrets/kubernetes.io/serviceaccount/token' });
 * const status = await reviewer.review(token, [binding.expectedAudience]);
 */
export function createTokenReviewer(config: TokenReviewConfig): TokenReviewer {
  const url = new URL(`${config.url.replace(/\/$/, '')}${REVIEW_PATH}`);
  const ca = config.caFile === undefined ? undefined : readFileSync(config.caFile);
  const bearer = cachedFileText(config.bearerTokenFile, BEARER_REREAD_MS);
  return {
    async review(token, audiences) {
      const body = JSON.stringify({ apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token, audiences } });
      const response = await postJson(url, body, readBearer(bearer), ca);
      if (response.status !== 201 && response.status !== 200) throw new ReviewUnavailableError(`the API server answered ${response.status} to a TokenReview`);
      return parseStatus(response.text);
    },
  };
}

function readBearer(read: () => string): string {
  try {
    return read();
  } catch {
    throw new ReviewUnavailableError('the bearer token file for the API server could not be read');
  }
}

/** Reads the file now (a missing file fails at start-up) and again when the copy is older than maxAgeMs. */
function cachedFileText(path: string, maxAgeMs: number): () => string {
  const read = () => ({ text: readFileSync(path, 'utf8').trim(), at: performance.now() });
  let copy = read();
  return () => {
    if (performance.now() - copy.at >= maxAgeMs) copy = read();
    return copy.text;
  };
}

function parseStatus(text: string): TokenReviewStatus {
  let parsed;
  try {
    parsed = reviewResponse.safeParse(JSON.parse(text));
  } catch {
    throw new ReviewUnavailableError('the TokenReview response is not JSON');
  }
  if (!parsed.success) throw new ReviewUnavailableError('the response is not a TokenReview');
  const { authenticated, audiences, user } = parsed.data.status;
  return { authenticated: authenticated === true, audiences: audiences ?? [], username: user?.username, extra: user?.extra ?? {} };
}

/** One POST with a deadline and a response size cap; node:https because the cluster CA is private. */
function postJson(url: URL, body: string, bearer: string, ca: Buffer | undefined): Promise<{ status: number; text: string }> {
  const headers = { authorization: `Bearer ${bearer}`, 'content-type': 'application/json', accept: 'application/json' };
  const options = { method: 'POST', headers, signal: AbortSignal.timeout(TIMEOUT_MS) };
  return new Promise((resolve, reject) => {
    const onResponse = (res: IncomingMessage) => collect(res, (error, text) => (error ? reject(error) : resolve({ status: res.statusCode ?? 0, text })));
    const req = url.protocol === 'https:' ? httpsRequest(url, { ...options, ca }, onResponse) : httpRequest(url, options, onResponse);
    req.on('error', (error) => reject(new ReviewUnavailableError(`TokenReview request failed: ${error.message}`)));
    req.end(body);
  });
}

function collect(res: IncomingMessage, done: (error: Error | null, text: string) => void): void {
  const chunks: Buffer[] = [];
  let size = 0;
  res.on('data', (chunk: Buffer) => {
    size += chunk.length;
    if (size <= MAX_RESPONSE_BYTES) chunks.push(chunk);
    else res.destroy(new ReviewUnavailableError('the TokenReview response is too large'));
  });
  res.on('error', (error) => done(error instanceof ReviewUnavailableError ? error : new ReviewUnavailableError(`TokenReview response failed: ${error.message}`), ''));
  res.on('end', () => done(null, Buffer.concat(chunks).toString('utf8')));
}
