/**
 * Notifications to humans (pure): the one-line text shown in the inbox, live pages and chat
 * webhooks, and the retry schedule of webhook deliveries. Times are epoch milliseconds.
 */

/** A sentence for the recipient; ids only, never a secret (payloads carry ids and reasons). */
export function describeNotification(kind: string, payload: Record<string, unknown>): string {
  const s = (key: string) => (typeof payload[key] === 'string' ? (payload[key] as string) : '?');
  switch (kind) {
    case 'mandate.requested':
      return `Agent ${s('agent_id')} asks for a mandate (${s('mandate_id')}): approve or deny it.`;
    case 'attestation.contraindicated':
      return `Agent ${s('agent_id')} presented contraindicated evidence; its mandates are suspended.`;
    case 'review.due':
      return `Mandate ${s('mandate_id')} of agent ${s('agent_id')} is due for review: keep or revoke it.`;
    case 'mandate.suspended':
      return `Mandate ${s('mandate_id')} of agent ${s('agent_id')} was suspended (${s('reason')}).`;
    case 'passkey.registered':
      return `A passkey (${s('credential_id')}) was added to your account. If you did not add it, tell an admin now.`;
    case 'lifecycle.flagged':
      return `Agent ${s('agent_name')} (${s('agent_id')}) was flagged ${s('flag')}: ${s('action')}.`;
    default:
      return `${kind}`;
  }
}

export interface RetrySchedule {
  maxAttempts: number;
  initialBackoff: number;
  maxBackoff: number;
}

/**
 * When attempt `attempt + 1` is due after attempt `attempt` failed at `now`, or null when it was the
 * last. Exponential (initial × 2^(attempt−1), capped) with ±20 % jitter from `unit` ∈ [0, 1), so
 * many deliveries failing together do not retry in lockstep. Defaults: 2, 4, 8, 16, 32 min ≈ 1 h.
 */
export function nextAttemptAt(schedule: RetrySchedule, attempt: number, now: number, unit: number): number | null {
  if (attempt >= schedule.maxAttempts) return null;
  const base = Math.min(schedule.initialBackoff * 2 ** (attempt - 1), schedule.maxBackoff);
  return now + Math.round(base * (0.8 + 0.4 * unit));
}

/** A receiver's answer or a transport failure, as a class safe to store and show. */
export function errorClassOf(outcome: { status: number } | { error: unknown }): string | null {
  if ('status' in outcome) return outcome.status >= 200 && outcome.status < 300 ? null : `http_${outcome.status}`;
  const error = outcome.error as { name?: string; cause?: { code?: string } } | null;
  if (error?.name === 'TimeoutError' || error?.name === 'AbortError') return 'timeout';
  const code = error?.cause?.code ?? '';
  if (/^(ECONNREFUSED|ECONNRESET|EHOSTUNREACH|ENETUNREACH|EPIPE|UND_ERR_SOCKET)$/.test(code)) return 'connection';
  if (/^(ENOTFOUND|EAI_AGAIN)$/.test(code)) return 'dns';
  if (/CERT|TLS|SSL/.test(code)) return 'tls';
  return 'network';
}
