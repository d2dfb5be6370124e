import { performance } from 'node:perf_hooks';
import { OAUTH_ERROR } from '@mandate/sdk/protocol';
import type { FastifyBaseLogger, FastifyInstance, FastifyRequest } from 'fastify';
import type { Config } from '../config/load.ts';
import { ERROR_CATALOGUE, isMandateError, MandateError } from '../core/errors.ts';
import { createRateLimiter, retryAfterSeconds, type RateLimiter } from '../core/rate-limit.ts';
import type { Metrics } from '../ports/metrics.ts';
import { clientAddress } from './client-ip.ts';
import { authenticateClient } from './oauth/client-steps.ts';
import type { RouteContext, RouteSpec } from './route-spec.ts';

/**
 * Rate limits on every route that authenticates a client (docs/limits.md):
 *  - per client: every request of an authenticated client, counted after client authentication
 *    succeeds, so nobody can spend another client's budget by sending its `client_id`;
 *  - failure budgets, keyed by the IPv6 /48 (IPv6 only), by the address, and by the pair
 *    (address, the client the request claims to be). The pair's budget is the one a failing
 *    client spends, so it does not lock out other clients behind the same proxy or NAT; the
 *    address's, about 10× larger, stops a flood of made-up client ids from one address.
 * Each budget is reserved before the work (the address ones in `onRequest`, before the body is
 * read; the pair's once the body names the client, before any signature is checked) and refunded
 * when the request turns out not to be a counted failure: concurrent requests cannot all slip
 * through a check that only looks. In memory, per replica (docs/limits.md).
 */
export interface RateLimits {
  perClient: RateLimiter;
  /** Failures per (address, claimed client id). */
  perClientAddress: RateLimiter;
  /** Failures per address (IPv4, or IPv6 /64). */
  perAddress: RateLimiter;
  /** Failures per IPv6 /48. */
  perNetwork: RateLimiter;
  /** Milliseconds on a monotonic clock: a wall-clock step must not refill or drain budgets. */
  now(): number;
  /** Half the per-client burst, rounded up: what replayed assertions can never take from a client (`limitClient`). */
  keptFromReplays: number;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** `null` when `limits.enabled` is false. */
    rateLimits: RateLimits | null;
  }
}

/** Signature failures: client assertions, DPoP proofs, attestation results, every attestor's evidence. */
const SIGNATURE_FAILURE = /_SIGNATURE/;
/** Longest claimed client id kept in a key (agent ids are 26 characters): bounds the memory per key. */
const MAX_CLAIMED_ID = 64;

export function createRateLimits(settings: Config['limits'], now: () => number = () => performance.now()): RateLimits | null {
  if (!settings.enabled) return null;
  const limiter = (budget: { rate: number; burst: number }) => createRateLimiter({ ...budget, maxKeys: settings.maxKeys });
  return {
    perClient: limiter(settings.perClient),
    perClientAddress: limiter(settings.perIpFailures),
    perAddress: limiter(settings.perAddressFailures),
    perNetwork: limiter(settings.perIpv6NetworkFailures),
    now,
    keptFromReplays: Math.ceil(settings.perClient.burst / 2),
  };
}

/** The routes the limits apply to: every route whose steps authenticate a client (derived, not listed). */
export function limitedRoutes(routes: readonly RouteSpec[]): Set<string> {
  return new Set(routes.filter((spec) => spec.steps.includes(authenticateClient)).map((spec) => `${spec.method} ${spec.path}`));
}

/** What one request holds: the budgets it reserved, and whether it turned out to be a counted failure. */
interface Held {
  reserved: Array<[RateLimiter, string, number]>;
  address: string;
  failed: boolean;
  /** The client whose budget `limitClient` counted this request against (until when), to give back if it was a replayed assertion. */
  client?: [string, number];
}
const held = new WeakMap<FastifyRequest, Held>();

/**
 * Call before the routes are registered, so every route sees `rateLimits`. The keys each limiter
 * holds show as `mandate_cache_entries{cache="rate_limit_*"}`; the 429s as
 * `mandate_http_requests_total{status="429"}`.
 */
export function installRateLimits(app: FastifyInstance, limits: RateLimits | null, routes: readonly RouteSpec[], metrics?: Pick<Metrics, 'cacheSize'>): void {
  app.decorate('rateLimits', limits);
  if (!limits) return;
  metrics?.cacheSize('rate_limit_clients', () => limits.perClient.size());
  metrics?.cacheSize('rate_limit_addresses', () => limits.perAddress.size());
  metrics?.cacheSize('rate_limit_client_addresses', () => limits.perClientAddress.size());
  metrics?.cacheSize('rate_limit_networks', () => limits.perNetwork.size());
  const limited = limitedRoutes(routes);
  const isLimited = (request: FastifyRequest) => limited.has(`${request.method} ${request.routeOptions.url ?? ''}`);
  // Hooks in callback form: Fastify awaits an async hook's promise, a microtask each, on every request.
  app.addHook('onRequest', (request, _reply, done) => {
    if (!isLimited(request)) return done();
    const { key, network } = clientAddress(request.ip, request.raw.socket?.remoteAddress);
    const entry: Held = { reserved: [], address: key, failed: false };
    held.set(request, entry);
    done(refusedBy(() => {
      if (network !== null) reserve(limits, entry, limits.perNetwork, network, 'too many failed requests from this network');
      reserve(limits, entry, limits.perAddress, key, 'too many failed requests from this address');
    }));
  });
  app.addHook('preHandler', (request, _reply, done) => {
    const entry = held.get(request);
    done(entry ? refusedBy(() => reserve(limits, entry, limits.perClientAddress, `${entry.address} ${claimedClient(request.body)}`, 'too many failed requests for this client from this address')) : undefined);
  });
  // onError runs before the error handler writes the response: the header set here is kept.
  app.addHook('onError', (request, reply, error, done) => {
    if (isMandateError(error) && error.code === 'ERR_RATE_LIMITED') reply.header('retry-after', String(error.details.retry_after));
    const entry = held.get(request);
    if (entry && isCountedFailure(error)) entry.failed = true;
    // A replayed client assertion authenticated no one: its client's budget gets the request back,
    // here rather than once the response is written (a client that hung up never gets one).
    if (entry?.client && isMandateError(error) && error.code === 'ERR_CLIENT_ASSERTION_REPLAY') {
      limits.perClient.refund(entry.client[0], limits.now(), entry.client[1]);
      entry.client = undefined;
    }
    done();
  });
  // Anything but a counted failure gives its slots back once its response is written ('finish' or
  // 'error'). A request whose response never is (its client went away) keeps them: they drain at the
  // budget's rate, erring towards counting a request whose signature may well have been checked.
  app.addHook('onResponse', (request, _reply, done) => {
    const entry = held.get(request);
    if (entry && !entry.failed) release(limits, entry);
    done();
  });
}

/** Runs `reserve` steps: the 429 one of them threw, or undefined when every slot was reserved. */
function refusedBy(steps: () => void): MandateError | undefined {
  try {
    steps();
    return undefined;
  } catch (error) {
    if (isMandateError(error)) return error;
    throw error;
  }
}

/** Reserves one slot of `limiter` for this request; refused → the request's other slots go back and it is a 429. */
function reserve(limits: RateLimits, entry: Held, limiter: RateLimiter, key: string, refusal: string): void {
  const decision = limiter.reserve(key, limits.now());
  if (decision.allowed) return void entry.reserved.push([limiter, key, decision.until]);
  release(limits, entry);
  throw rateLimited(refusal, decision.retryAfterMs);
}

function release(limits: RateLimits, entry: Held): void {
  for (const [limiter, key, until] of entry.reserved) limiter.refund(key, limits.now(), until);
  entry.reserved = [];
}

/**
 * The client a request claims to be, unverified: its `client_id`, else the `iss` of its client
 * assertion (RFC 7523 §3: iss is the client id), else "-". Only a key: nothing is trusted from it.
 */
export function claimedClient(body: unknown): string {
  const params = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  if (typeof params.client_id === 'string' && params.client_id !== '') return params.client_id.slice(0, MAX_CLAIMED_ID);
  const assertion = typeof params.client_assertion === 'string' ? params.client_assertion : '';
  try {
    const claims = JSON.parse(Buffer.from(assertion.split('.')[1] ?? '', 'base64url').toString('utf8')) as { iss?: unknown };
    if (typeof claims.iss === 'string' && claims.iss !== '') return claims.iss.slice(0, MAX_CLAIMED_ID);
  } catch {
    // not a JWS with a JSON payload: no claim
  }
  return '-';
}

/**
 * Route step, right after `authenticateClient`: the authenticated client spends one request.
 *
 * A request that holds its single-use ids for its token's commit (POST /token) has not had its
 * client assertion checked for a replay yet: that is found when the ids are recorded (the commit,
 * or the answer to a refusal), and the request given back to the budget then (`onError`). So a
 * replayed assertion costs its client nothing, but holds a slot while it is in flight: a request
 * that would leave the client less than half of its burst (`keptFromReplays`) is looked up in the
 * replay cache first, so replays can never take that half. The other routes record the assertion
 * when they check it, before this step.
 */
export async function limitClient(ctx: RouteContext): Promise<void> {
  const limits = ctx.request.server.rateLimits;
  if (!limits || !ctx.agent) return;
  const key = ctx.agent.id;
  if (ctx.held && lookUpFirst(limits.perClient.headroom(key, limits.now()), limits.keptFromReplays)) {
    const replayed = await ctx.held.replayedBefore(ctx.deps.clock.now());
    if (replayed) throw replayed;
  }
  const decision = limits.perClient.take(key, limits.now());
  if (!decision.allowed) throw rateLimited('too many requests from this client', decision.retryAfterMs);
  const entry = held.get(ctx.request);
  if (entry && ctx.held) entry.client = [key, decision.until];
}

/** Whether a request that may be a replay must be looked up before it is counted: counting it would leave less than `kept`. */
export const lookUpFirst = (headroom: number, kept: number): boolean => headroom - 1 < kept;

/**
 * Behind a TLS proxy (an https issuer) with no `server.trustedProxies`, every request comes from
 * the proxy's address: all clients share its failure budgets (docs/limits.md). Said once, at start.
 */
export function warnIfSharedAddress(log: FastifyBaseLogger, config: Pick<Config, 'issuer' | 'server' | 'limits'>): void {
  if (!config.limits.enabled || !config.issuer.startsWith('https://') || config.server.trustedProxies.length > 0) return;
  log.warn({ setting: 'server.trustedProxies' }, 'https issuer and no server.trustedProxies: behind a TLS proxy every client shares the proxy\'s address failure budget (limits.perAddressFailures); list the proxy in server.trustedProxies (docs/limits.md)');
}

/** What the failure budgets count: proofs of possession that failed to prove anything. */
export function isCountedFailure(error: unknown): boolean {
  if (!isMandateError(error)) return false;
  const { oauth } = ERROR_CATALOGUE[error.code];
  if (oauth === OAUTH_ERROR.invalidClient || oauth === OAUTH_ERROR.invalidDpopProof) return true;
  if (SIGNATURE_FAILURE.test(error.code) || error.details.mandate_error === 'attestation_pop_invalid') return true;
  // POST /attest: a rejected verdict whose reasons include an attestor's signature failure.
  const failures = error.code === 'ERR_ATTESTATION_REJECTED' && Array.isArray(error.details.failures) ? error.details.failures : [];
  return failures.some((failure: { reason?: unknown }) => typeof failure.reason === 'string' && SIGNATURE_FAILURE.test(failure.reason));
}

function rateLimited(message: string, retryAfterMs: number): MandateError {
  const seconds = retryAfterSeconds(retryAfterMs);
  return new MandateError('ERR_RATE_LIMITED', `${message}: retry after ${seconds} s`, { retry_after: seconds, mandate_error: 'rate_limited' });
}
