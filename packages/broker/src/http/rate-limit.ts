import { performance } from 'node:perf_hooks';
import { BROKER_PATH, OAUTH_ERROR } from '@mandate/sdk/protocol';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Config } from '../config/load.ts';
import { ERROR_CATALOGUE, isMandateError, MandateError } from '../core/errors.ts';
import { createRateLimiter, retryAfterSeconds, type RateLimiter } from '../core/rate-limit.ts';
import type { Metrics } from '../ports/metrics.ts';
import { addressKey } from './client-ip.ts';
import type { RouteContext } from './route-spec.ts';

/**
 * Rate limits on the agent endpoints that do signature work (docs/limits.md):
 *  - per client: every request of an authenticated client, counted after client authentication
 *    succeeds, so nobody can spend another client's budget by sending its `client_id`;
 *  - per address: failures only; an address that has spent its failure budget is refused in
 *    `onRequest`, before its body is read or any signature is checked.
 * In memory, per replica: a shared store would put a round trip on every mint (docs/limits.md).
 */
export interface RateLimits {
  perClient: RateLimiter;
  perAddress: RateLimiter;
  /** Milliseconds on a monotonic clock: a wall-clock step must not refill or drain budgets. */
  now(): number;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** `null` when `limits.enabled` is false. */
    rateLimits: RateLimits | null;
  }
}

const LIMITED_PATHS: ReadonlySet<string> = new Set([BROKER_PATH.token, BROKER_PATH.attest, BROKER_PATH.backchannelAuthorize]);
/** Signature failures: client assertions, DPoP proofs, attestation results, every attestor's evidence. */
const SIGNATURE_FAILURE = /_SIGNATURE/;

export function createRateLimits(settings: Config['limits'], now: () => number = () => performance.now()): RateLimits | null {
  if (!settings.enabled) return null;
  return {
    perClient: createRateLimiter({ ...settings.perClient, maxKeys: settings.maxKeys }),
    perAddress: createRateLimiter({ ...settings.perIpFailures, maxKeys: settings.maxKeys }),
    now,
  };
}

/**
 * Call before the routes are registered, so every route sees `rateLimits`. The keys each limiter
 * holds show as `mandate_cache_entries{cache="rate_limit_clients"|"rate_limit_addresses"}`; the
 * 429s as `mandate_http_requests_total{status="429"}`.
 */
export function installRateLimits(app: FastifyInstance, limits: RateLimits | null, metrics?: Pick<Metrics, 'cacheSize'>): void {
  app.decorate('rateLimits', limits);
  if (!limits) return;
  metrics?.cacheSize('rate_limit_clients', () => limits.perClient.size());
  metrics?.cacheSize('rate_limit_addresses', () => limits.perAddress.size());
  app.addHook('onRequest', async (request) => {
    if (!isLimited(request)) return;
    const decision = limits.perAddress.peek(addressKey(request.ip), limits.now());
    if (!decision.allowed) throw rateLimited('too many failed requests from this address', decision.retryAfterMs);
  });
  // onError runs before the error handler writes the response: the header set here is kept.
  app.addHook('onError', async (request, reply, error) => {
    if (isMandateError(error) && error.code === 'ERR_RATE_LIMITED') reply.header('retry-after', String(error.details.retry_after));
    else if (isLimited(request) && isCountedFailure(error)) limits.perAddress.take(addressKey(request.ip), limits.now());
  });
}

/** Route step, right after `authenticateClient`: the authenticated client spends one request. */
export function limitClient(ctx: RouteContext): void {
  const limits = ctx.request.server.rateLimits;
  if (!limits || !ctx.agent) return;
  const decision = limits.perClient.take(ctx.agent.id, limits.now());
  if (!decision.allowed) throw rateLimited('too many requests from this client', decision.retryAfterMs);
}

/** What the per-address limiter counts: proofs of possession that failed to prove anything. */
export function isCountedFailure(error: unknown): boolean {
  if (!isMandateError(error)) return false;
  const { oauth } = ERROR_CATALOGUE[error.code];
  if (oauth === OAUTH_ERROR.invalidClient || oauth === OAUTH_ERROR.invalidDpopProof) return true;
  if (SIGNATURE_FAILURE.test(error.code) || error.details.mandate_error === 'attestation_pop_invalid') return true;
  // POST /attest: a rejected verdict whose reasons include an attestor's signature failure.
  const failures = error.code === 'ERR_ATTESTATION_REJECTED' && Array.isArray(error.details.failures) ? error.details.failures : [];
  return failures.some((failure: { reason?: unknown }) => typeof failure.reason === 'string' && SIGNATURE_FAILURE.test(failure.reason));
}

function isLimited(request: FastifyRequest): boolean {
  return request.method === 'POST' && LIMITED_PATHS.has(request.routeOptions.url ?? '');
}

function rateLimited(message: string, retryAfterMs: number): MandateError {
  const seconds = retryAfterSeconds(retryAfterMs);
  return new MandateError('ERR_RATE_LIMITED', `${message}: retry after ${seconds} s`, { retry_after: seconds, mandate_error: 'rate_limited' });
}
