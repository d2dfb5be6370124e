import { MANDATE_ERROR, OAUTH_ERROR, SLOW_DOWN_STEP_SECONDS } from '../protocol/index.ts';
import { ConfigurationError, OAuthResponseError, WaitAbortedError, WaitTimeoutError } from '../errors.ts';
import type { AttestationResult } from './attest.ts';
import { pollToken, type ApprovedMandate } from './ciba.ts';
import type { AgentContext } from './context.ts';

/**
 * How `AgentClient.waitForApproval` polls.
 *
 * @example
 * ```ts
 * await agent.waitForApproval(authReqId, { timeoutMs: 10 * 60_000, signal: AbortSignal.timeout(15 * 60_000) });
 * ```
 */
export interface WaitOptions {
  /** Seconds between polls; defaults to the `interval` the broker gave for this request, else 5. */
  interval?: number;
  signal?: AbortSignal;
  /** Give up with `WaitTimeoutError` after this many milliseconds. */
  timeoutMs?: number;
}

/** What the poll loop needs besides the context. */
export interface WaitDeps {
  /** The attestation sent with the request, if this client made it. */
  attestation: AttestationResult | undefined;
  /** A fresh attestation result; `undefined` when the client has no evidence provider. */
  reattest: (() => Promise<AttestationResult>) | undefined;
  /** Seconds kept between an attestation's expiry and its use. */
  marginMs: number;
}

/**
 * OpenID CIBA §7.3 / §11 polling: wait `interval` between polls, add 5 s after `slow_down`, stop on
 * `access_denied` / `expired_token` / any other error. When the request's attestation is about to go
 * stale, a fresh one is sent in the `OAuth-Client-Attestation` headers (PROTOCOL §4).
 */
export async function waitForApproval(ctx: AgentContext, authReqId: string, options: WaitOptions, deps: WaitDeps): Promise<ApprovedMandate> {
  let interval = options.interval ?? 5;
  if (!(interval > 0)) throw new ConfigurationError('interval must be a positive number of seconds');
  const deadline = options.timeoutMs === undefined ? Infinity : ctx.clock.now() + options.timeoutMs;
  let attestation = deps.attestation;
  let fresh: string | undefined;
  let staleRejected: string | undefined;
  for (;;) {
    await pause(ctx, Math.min(interval * 1000, Math.max(0, deadline - ctx.clock.now())), options.signal);
    if (ctx.clock.now() >= deadline) throw new WaitTimeoutError(`no decision on ${authReqId} within ${options.timeoutMs} ms`);
    if (deps.reattest && attestation && attestation.expiresAt - deps.marginMs <= ctx.clock.now()) {
      attestation = await deps.reattest();
      fresh = attestation.attestation;
    }
    try {
      return await pollToken(ctx, authReqId, fresh);
    } catch (error) {
      if (!(error instanceof OAuthResponseError)) throw error;
      if (error.oauthError === OAUTH_ERROR.authorizationPending) continue;
      if (error.oauthError === OAUTH_ERROR.slowDown) interval += SLOW_DOWN_STEP_SECONDS;
      else if (error.mandateError === MANDATE_ERROR.attestationStale && deps.reattest && staleRejected !== (fresh ?? '')) {
        // Re-attest once per rejected result, so a broker that keeps saying stale ends the wait.
        staleRejected = fresh ?? '';
        attestation = await deps.reattest();
        fresh = attestation.attestation;
      } else throw error;
    }
  }
}

async function pause(ctx: AgentContext, ms: number, signal: AbortSignal | undefined): Promise<void> {
  if (signal?.aborted) throw new WaitAbortedError('waiting was aborted', { cause: signal.reason });
  try {
    await ctx.clock.sleep(ms, signal);
  } catch (error) {
    if (signal?.aborted) throw new WaitAbortedError('waiting was aborted', { cause: signal.reason });
    throw error;
  }
}
