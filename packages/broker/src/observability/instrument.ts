import { performance } from 'node:perf_hooks';
import type { LoopServices } from '../http/deps.ts';
import type { AuditAppend } from '../ports/audit-sink.ts';
import type { ChangeFeed, ChangeSubscription, RevocationEvents, RevocationWrite } from '../ports/change-feed.ts';
import type { Metrics, MintGrant } from '../ports/metrics.ts';
import { popKeyCacheSize } from '../services/actor-attestation.ts';
import type { HotReads } from '../services/read-cache.ts';
import { outcomeOf } from './outcome.ts';

/** Change-feed topics that end access somewhere: counted and timed as revocations. */
export const REVOCATION_TOPICS: ReadonlySet<string> = new Set(['mandate.revoked', 'token.revoked', 'agent.suspended']);

const ATTEST_OUTCOMES = { ERR_ATTESTATION_CONTRAINDICATED: 'contraindicated', ERR_ATTESTATION_REJECTED: 'rejected' } as const;

/**
 * Decorates the core loop at the composition root, so services record nothing themselves:
 * mints (by grant), attestations and approvals are counted by outcome, mints timed.
 */
export function instrumentLoop(metrics: Metrics, loop: LoopServices): LoopServices {
  const timedMint = <A extends unknown[], R>(grant: MintGrant, run: (...args: A) => Promise<R>) => async (...args: A): Promise<R> => {
    const start = performance.now();
    try {
      const result = await run(...args);
      metrics.mint(grant, 'issued', (performance.now() - start) / 1000);
      return result;
    } catch (error) {
      metrics.mint(grant, outcomeOf(error), (performance.now() - start) / 1000);
      throw error;
    }
  };
  const { decisions } = loop;
  return {
    ...loop,
    collect: timedMint('ciba', loop.collect),
    mint: timedMint('token_exchange', loop.mint),
    mintAutonomous: timedMint('client_credentials', loop.mintAutonomous),
    attest: counted(loop.attest, (result) => result.record.verdict, (error) => metrics.attest(outcomeOf(error, ATTEST_OUTCOMES)), (o) => metrics.attest(o)),
    decisions: {
      ...decisions,
      approve: counted(decisions.approve, () => 'approved', (error, _id, proof) => metrics.approval(proof.method, outcomeOf(error)), (o, _id, proof) => metrics.approval(proof.method, o)),
      deny: counted(decisions.deny, () => 'denied', (error) => metrics.approval('none', outcomeOf(error)), (o) => metrics.approval('none', o)),
    },
  };
}

/** The in-memory caches of the hot path, read at each scrape (`mandate_cache_entries{cache}`). */
export function registerCacheGauges(metrics: Metrics, loop: LoopServices, hot: Pick<HotReads, 'sizes'>): void {
  const sizeOf = (verifier: unknown) => () => (verifier as Partial<{ cacheSize(): number }>).cacheSize?.() ?? 0;
  metrics.cacheSize('dpop_keys', sizeOf(loop.verifyDpop));
  metrics.cacheSize('client_keys', sizeOf(loop.authenticateClient));
  metrics.cacheSize('attestation_results', sizeOf(loop.verifyAttestation));
  metrics.cacheSize('pop_keys', popKeyCacheSize);
  metrics.cacheSize('agents', () => hot.sizes().agents);
  metrics.cacheSize('mandates', () => hot.sizes().mandates);
}

/** Wraps `run` so each call reports its success word or its failure, then answers as before. */
function counted<A extends unknown[], R>(
  run: (...args: A) => Promise<R>, success: (result: R) => string,
  failed: (error: unknown, ...args: A) => void, succeeded: (outcome: string, ...args: A) => void,
): (...args: A) => Promise<R> {
  return async (...args: A) => {
    let result: R;
    try {
      result = await run(...args);
    } catch (error) {
      failed(error, ...args);
      throw error;
    }
    succeeded(success(result), ...args);
    return result;
  };
}

/** A change feed that counts revocations and can time their arrival from other replicas. */
export interface InstrumentedChangeFeed extends ChangeFeed {
  /**
   * Subscribes (when the store can) to time each revocation another replica or process published,
   * from its `at` until it reaches this replica; null without `subscribe`.
   */
  observeRemote(onError?: (error: Error) => void): ChangeSubscription | null;
}

/** Changes published here, remembered so the subscription does not time them twice. */
const OWN_CHANGES_LIMIT = 4096;
const signature = (change: { topic: string; key: string; at: number }) => `${change.topic}\u0000${change.key}\u0000${change.at}`;
const remember = (own: Set<string>, change: { topic: string; key: string; at: number }) => {
  if (own.size >= OWN_CHANGES_LIMIT) own.delete(own.values().next().value!);
  own.add(signature(change));
};

/**
 * Counts revocations where they are published. The publishing replica applies a revocation in
 * the same store write, so its propagation time is the local apply time: from the change's `at`
 * until the publication is committed. Other replicas time it when it reaches them.
 */
export function instrumentChangeFeed(feed: ChangeFeed, metrics: Metrics, now: () => number): InstrumentedChangeFeed {
  const own = new Set<string>();
  return {
    ...feed,
    async publish(topic, key, at) {
      // Remembered before publishing: LISTEN/NOTIFY may deliver the change before publish resolves.
      if (REVOCATION_TOPICS.has(topic)) {
        if (own.size >= OWN_CHANGES_LIMIT) own.delete(own.values().next().value!);
        own.add(signature({ topic, key, at }));
      }
      const cursor = await feed.publish(topic, key, at);
      if (REVOCATION_TOPICS.has(topic)) {
        metrics.revocation(topic);
        metrics.revocationPropagation(topic, (now() - at) / 1000);
      }
      return cursor;
    },
    // A revocation committed with its writes and audit events (docs/revocation.md): counted the same way when it applied.
    ...(feed.commitRevocation ? {
      async commitRevocation(write: RevocationWrite, audit: AuditAppend, events: RevocationEvents) {
        const { topic, key, at, publish } = write.change;
        const counted = publish !== false && REVOCATION_TOPICS.has(topic);
        if (counted) remember(own, { topic, key, at });
        const committed = await feed.commitRevocation!(write, audit, events);
        if (counted && committed.outcome.applied) {
          metrics.revocation(topic);
          metrics.revocationPropagation(topic, (now() - at) / 1000);
        }
        return committed;
      },
    } : {}),
    observeRemote(onError) {
      if (!feed.subscribe) return null;
      return feed.subscribe((change) => {
        if (!own.delete(signature(change))) observeAppliedChange(metrics, change, now());
      }, onError ? { onError } : {});
    },
  };
}

/** For a replica applying a change published elsewhere (LISTEN/NOTIFY or polling). */
export function observeAppliedChange(metrics: Metrics, change: { topic: string; at: number }, now: number): void {
  if (REVOCATION_TOPICS.has(change.topic)) metrics.revocationPropagation(change.topic, (now - change.at) / 1000);
}
