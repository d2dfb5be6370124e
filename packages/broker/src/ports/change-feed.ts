import type { AuditEventInput, AuditRecord } from '../core/audit-chain.ts';
import type { MandateStatus } from '../core/mandate.ts';
import type { AgentStatus } from '../core/model.ts';
import type { AuditAppend } from './audit-sink.ts';
import type { MandatePatch } from './mandates.ts';

/**
 * An ordered feed of changes (revocations, key rotations, suspensions) that replicas read to
 * invalidate caches. Cursors are opaque increasing numbers.
 */
export interface Change {
  cursor: number;
  topic: string;
  key: string;
  at: number;
}

export interface ChangeFeed {
  publish(topic: string, key: string, at: number): Promise<number>;
  /** Changes with cursor > `cursor`, ascending, at most `limit`. */
  since(cursor: number, limit: number): Promise<Change[]>;
  /** The newest cursor, 0 when empty. */
  latest(): Promise<number>;
  /**
   * Calls `listener` for every change published after the subscription starts (or after
   * `options.from`), in cursor order, from any replica: replicas invalidate caches (signing keys)
   * this way. Pushed where the store can (PostgreSQL LISTEN/NOTIFY, one connection per store
   * whatever the number of subscribers), at once for a change committed through the same store,
   * and in any case polled at least every `pollIntervalMs`: that interval bounds how late a change
   * can arrive.
   */
  subscribe?(listener: ChangeListener, options?: SubscribeOptions): ChangeSubscription;
  /**
   * Applies `write`, publishes its change (unless `change.publish` is false) and appends
   * `events(outcome)` to `audit`'s chain in one transaction; this replica's subscribers are woken
   * right after a commit that published. Nothing is written when the write applies to nothing (a
   * concurrent revocation won).
   */
  commitRevocation?(write: RevocationWrite, audit: AuditAppend, events: RevocationEvents): Promise<CommittedRevocation>;
}

export type ChangeListener = (change: Change) => void | Promise<void>;

export interface SubscribeOptions {
  from?: number;
  pollIntervalMs?: number;
  onError?: (error: Error) => void;
  /**
   * Called, before the feed is read, whenever a change may have arrived (a commit through this
   * store, a notification, a reconnect): a subscriber that reads the feed itself (the SSF
   * transmitter) starts at once instead of after the subscription's own read.
   */
  onWake?: () => void;
}

export interface ChangeSubscription {
  close(): Promise<void>;
}

/**
 * A revocation's state change, committed with its change-feed row (and NOTIFY on PostgreSQL) and
 * its audit events in ONE transaction: a reader sees all of them or none (docs/revocation.md).
 */
export interface RevocationWrite {
  /** A conditional transition, only from `from`; when it changes no row, nothing at all is written. */
  mandate?: { id: string; from: readonly MandateStatus[]; patch: MandatePatch };
  /**
   * An agent's conditional status change (suspend, retire), only from `from`; when it changes no
   * row, nothing at all is written. Not with `mandate`: a write changes one row's state at most.
   */
  agent?: { id: string; from: readonly AgentStatus[]; to: AgentStatus };
  /**
   * A human's disabling (PROTOCOL §8), only while not disabled, `disabledAt` = `at`; when it changes
   * no row (unknown, or disabled already), nothing at all is written. Alone: the mandates the human
   * approved are revoked by the cascade that follows, each in its own write.
   */
  human?: { id: string; at: number };
  /**
   * The credentials revoked (those not revoked yet), with `revokedAt` = `change.at`; that is also
   * their status-list bit. Without `mandate`, `agent` or `human`, revoking none writes nothing.
   * `mandateTree`: the tokens of that mandate and of every mandate delegated below it, found by the
   * statement itself (a recursive query), so a tree of any size is one bounded statement.
   */
  credentials?: { jti: string } | { mandateId: string } | { mandateTree: string } | { agentId: string };
  /**
   * Published when the write applies; `at` is also the credentials' `revokedAt`. `publish: false`:
   * no change row, for a write whose effect another change announces (the mandates an agent's
   * suspension suspends: its `agent.suspended` change ends their tokens); `cursor` is then null.
   */
  change: { topic: string; key: string; at: number; publish?: false };
}

export interface RevocationOutcome {
  applied: boolean;
  credentialsRevoked: number;
  /** The published change's cursor; null when nothing was applied or nothing published (`publish: false`). */
  cursor: number | null;
}

export interface CommittedRevocation {
  outcome: RevocationOutcome;
  /** The audit events appended in the same transaction. */
  records: AuditRecord[];
}

/** The audit events of an applied revocation (none when it did not apply). */
export type RevocationEvents = (outcome: RevocationOutcome) => AuditEventInput[];
