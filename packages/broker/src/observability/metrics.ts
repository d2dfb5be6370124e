import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { MetricsExposition } from '../ports/metrics.ts';

/** The broker's metrics on their own registry, and how to render them for a scrape. */
export interface PrometheusMetrics extends MetricsExposition {
  readonly registry: Registry;
}

export interface MetricsOptions {
  /** Process metrics (CPU, memory, event-loop lag, GC) with prom-client's standard names. */
  processMetrics?: boolean;
}

// Mint and commit times sit in the sub-millisecond to tens-of-milliseconds range on SQLite
// (bench P1/P2); the upper buckets catch a slow disk or a contended PostgreSQL.
const FAST_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];
// Propagation across replicas is bounded by the change-feed polling interval (seconds).
const PROPAGATION_BUCKETS = [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const HTTP_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/**
 * One registry per app (not prom-client's global default), so several apps in one process (tests,
 * the benchmark) never collide. Metric names and labels are listed in docs/operations.md.
 *
 * @example
 * const metrics = createMetrics();
 * metrics.mint('ciba', 'issued', 0.004);
 * const text = await metrics.render();
 */
export function createMetrics(options: MetricsOptions = {}): PrometheusMetrics {
  const registry = new Registry();
  const registers = [registry];
  if (options.processMetrics ?? true) collectDefaultMetrics({ register: registry });
  const mints = new Counter({ name: 'mandate_mint_total', help: 'Token endpoint issuance attempts by grant and outcome.', labelNames: ['grant', 'outcome'], registers });
  const mintSeconds = new Histogram({ name: 'mandate_mint_seconds', help: 'Time to mint, audit included, by grant (successful and failed).', labelNames: ['grant'], buckets: FAST_BUCKETS, registers });
  const attests = new Counter({ name: 'mandate_attest_total', help: 'Attestations by outcome (verdict or error).', labelNames: ['outcome'], registers });
  const approvals = new Counter({ name: 'mandate_approval_total', help: 'Approval decisions by method and outcome.', labelNames: ['method', 'outcome'], registers });
  const revocations = new Counter({ name: 'mandate_revocation_total', help: 'Revocations published to the change feed, by kind.', labelNames: ['kind'], registers });
  const propagation = new Histogram({ name: 'mandate_revocation_propagation_seconds', help: 'From a revocation\'s publication to this replica applying it.', labelNames: ['kind'], buckets: PROPAGATION_BUCKETS, registers });
  const auditCommit = new Histogram({ name: 'mandate_audit_commit_seconds', help: 'Durable append of one audit batch (group commit).', buckets: FAST_BUCKETS, registers });
  const http = new Counter({ name: 'mandate_http_requests_total', help: 'HTTP requests by method, route pattern and status.', labelNames: ['method', 'route', 'status'], registers });
  const httpSeconds = new Histogram({ name: 'mandate_http_request_seconds', help: 'HTTP request duration by route pattern.', labelNames: ['method', 'route'], buckets: HTTP_BUCKETS, registers });
  const caches = new Map<string, () => number>();
  new Gauge({
    name: 'mandate_cache_entries', help: 'Entries in each in-memory cache.', labelNames: ['cache'], registers,
    collect() {
      for (const [cache, read] of caches) this.set({ cache }, read());
    },
  });
  return {
    registry,
    contentType: registry.contentType,
    render: () => registry.metrics(),
    mint(grant, outcome, seconds) {
      mints.inc({ grant, outcome });
      mintSeconds.observe({ grant }, seconds);
    },
    attest: (outcome) => attests.inc({ outcome }),
    approval: (method, outcome) => approvals.inc({ method, outcome }),
    revocation: (kind) => revocations.inc({ kind }),
    revocationPropagation: (kind, seconds) => propagation.observe({ kind }, Math.max(0, seconds)),
    auditCommit: (seconds) => auditCommit.observe(seconds),
    httpRequest(method, route, status, seconds) {
      http.inc({ method, route, status: String(status) });
      httpSeconds.observe({ method, route }, seconds);
    },
    cacheSize: (cache, read) => void caches.set(cache, read),
  };
}
