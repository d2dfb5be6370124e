/**
 * What services and adapters record for operators (docs/operations.md). Labels are bounded sets:
 * outcomes come from `outcomeOf` (a success word or the RFC 6749 error of the catalogue entry),
 * never from caller input. Durations are seconds.
 */
export type MintGrant = 'ciba' | 'token_exchange' | 'client_credentials';

export interface Metrics {
  mint(grant: MintGrant, outcome: string, seconds: number): void;
  attest(outcome: string): void;
  approval(method: string, outcome: string): void;
  /** A revocation published to the change feed; `kind` is the feed topic (`mandate.revoked`, …). */
  revocation(kind: string): void;
  /** From a revocation's publication (`Change.at`) until this replica applied it. */
  revocationPropagation(kind: string, seconds: number): void;
  /** One durable append of the audit sink (group commit: one observation per batch). */
  auditCommit(seconds: number): void;
  /** One HTTP request; `route` is the route pattern (`/admin/v1/humans/:id`), `unmatched` otherwise. */
  httpRequest(method: string, route: string, status: number, seconds: number): void;
  /** Registers a cache whose current size the metrics read at each scrape. */
  cacheSize(cache: string, read: () => number): void;
}

/** Metrics that can also be rendered for a scrape (Prometheus text format). */
export interface MetricsExposition extends Metrics {
  readonly contentType: string;
  render(): Promise<string>;
}

/** Records nothing: for tests and tools that build services without an app. */
export const noopMetrics: MetricsExposition = {
  contentType: 'text/plain; version=0.0.4; charset=utf-8',
  render: async () => '',
  mint: () => undefined,
  attest: () => undefined,
  approval: () => undefined,
  revocation: () => undefined,
  revocationPropagation: () => undefined,
  auditCommit: () => undefined,
  httpRequest: () => undefined,
  cacheSize: () => undefined,
};
