import type { Mandate, MandateStatus } from '../core/mandate.ts';
import type { AuditEventInput, AuditRecord } from '../core/audit-chain.ts';
import type { AuditAppend } from './audit-sink.ts';
import type { ReplayClaim } from './replay-cache.ts';
import type { StatusListSlot } from './status-lists.ts';

/** `dpopJkt` and the attestation change only when a child agent redeems its sub-grant (PROTOCOL §10). */
export type MandatePatch = Partial<
  Pick<Mandate, 'status' | 'approval' | 'decidedAt' | 'grantHash' | 'endedAt' | 'endReason' | 'dpopJkt' | 'attestationId' | 'attestationDigest'>
>;

/** Uses a sub-grant's mandate gets (PROTOCOL §5 `maxUses`), carved out of its parent's when the parent counts them. */
export interface CarvedUses {
  count: number;
  /** The parent mandate whose use counter gives them up; null when the parent has no `maxUses`. */
  carveFrom: string | null;
}

export interface MandateFilter {
  status?: MandateStatus;
  agentId?: string;
  approverId?: string;
}

/** Mandates. Status changes are conditional updates, so two replicas never both win a transition. */
export interface MandateRepository {
  /** Fails when the id, the `authReqIdHash` or a non-null `grantHash` is already stored, or the agent or approver is unknown. */
  insert(mandate: Mandate): Promise<void>;
  get(id: string): Promise<Mandate | null>;
  getByAuthReqIdHash(hash: string): Promise<Mandate | null>;
  getByGrantHash(hash: string): Promise<Mandate | null>;
  /** The mandate of a sub-grant, by the sub-grant's hash, redeemed or not. */
  getBySubGrantHash(hash: string): Promise<Mandate | null>;
  /**
   * Stores a sub-grant's mandate (one with `hop`) in one transaction with its use counter. With
   * `uses.carveFrom`, `uses.count` uses are taken from that mandate's counter only if that many
   * remain; the child's counter is created with `uses.count`. Returns false, storing nothing, when
   * too few remain (of concurrent carves, never more than remain succeed). Fails like `insert`,
   * and also for a taken `hop.subGrantHash` or an unknown parent.
   */
  insertChild(child: Mandate, uses: CarvedUses | null): Promise<boolean>;
  /** The mandates carved directly out of `parentId`, oldest first (`createdAt`, then `id`). */
  listChildren(parentId: string): Promise<Mandate[]>;
  /** Newest first (`createdAt`, then `id`, descending); every filter given must match. */
  list(filter: MandateFilter, limit: number): Promise<Mandate[]>;
  /**
   * Applies `patch` only while the stored status is one of `from`, in one conditional write; true
   * when it did, false (nothing changed) for an unknown id or another status. Of concurrent calls
   * from the same state exactly one returns true. Fields absent from `patch` keep their value; an
   * empty patch is a bare status check. Which moves are legal is the services' business, not
   * the store's. A `grantHash` already held by another mandate makes it fail.
   */
  transition(id: string, from: readonly MandateStatus[], patch: MandatePatch): Promise<boolean>;
  /**
   * CIBA polling (OpenID CIBA §7.3): records a poll at `at`. When a previous poll exists and
   * `at - lastPolledAt < interval * 1000`, the interval grows by `slowDownSeconds` and the call
   * returns `slowDown: true`; the first poll never slows down. `lastPolledAt` becomes `at` either
   * way (a slowed-down poll still counts), and the result carries the interval after the call.
   * Polls are serialized, each seeing the one before: n concurrent polls at one `at` on a mandate
   * never polled yield one `{ slowDown: false, interval: i }` and n − 1 slow-downs with intervals
   * i + s, i + 2s, … i + (n − 1)s. Any status; fails for an unknown id.
   */
  recordPoll(id: string, at: number, slowDownSeconds: number): Promise<{ slowDown: boolean; interval: number }>;
  /**
   * Mandates of an agent, or where a human is the approver, that can still yield tokens: stored
   * status `pending`, `approved`, `active` or `suspended` (the store has no clock; apply
   * `effectiveStatus`). Both filters given must both match; none lists every live mandate. Newest first.
   */
  listLive(filter: { agentId?: string; approverId?: string }): Promise<Mandate[]>;
}

/** An issued access token, kept for introspection and revocation (never the token itself). */
export interface Credential {
  jti: string;
  mandateId: string | null;
  agentId: string;
  subject: string;
  audience: string;
  jkt: string;
  issuedAt: number;
  expiresAt: number;
  revokedAt: number | null;
}

export interface IssueWrite {
  credential: Credential;
  /** Mandate statuses under which the credential may be stored; the agent must be active too. */
  live: readonly MandateStatus[];
  /**
   * The human whose approval the token carries (its mandate's approver), who must be active at the
   * commit, else `approver_disabled` (PROTOCOL §8 backstop: disabling a human and the cascade to
   * their mandates are two commits); null for a token without a mandate.
   */
  approverId: string | null;
  /** The token's Token Status List index, claimed as `StatusListRepository.claim` does. */
  slot: StatusListSlot;
  /**
   * The request's single-use ids, recorded first, as `ReplayCache.checkAndInsert` does: one seen
   * before, or expired at `now` (`isSpent`), makes the outcome `replayed`; every id not seen
   * before stays recorded whatever the outcome.
   */
  singleUse: readonly ReplayClaim[];
  now: number;
}

/** `issued`: everything is stored; otherwise nothing is but the single-use ids (see `IssueWrite`). */
export type IssueOutcome = 'issued' | 'not_live' | 'approver_disabled' | 'slot_taken' | 'replayed';

export interface CommittedIssue {
  outcome: IssueOutcome;
  records: AuditRecord[];
  /** With `replayed`: the first id that was seen before. */
  replayed?: ReplayClaim;
}

export interface CredentialRepository {
  /** Fails when the jti is already stored, or the agent or a non-null mandate is unknown. */
  insert(credential: Credential): Promise<void>;
  /**
   * The mint's write, one transaction (docs/audit.md "One commit per token"): the check that the
   * agent is active and the mandate (when it has one) in one of `live`, the token's status-list
   * slot, the credential and the audit `events` on the log's chain commit together or not at all,
   * so a concurrent revocation or suspension either sees the credential or makes this `not_live`.
   * `not_live`, `slot_taken` and `replayed` store only the single-use ids not seen before; a failed
   * commit throws and stores nothing. Absent
   * only on adapters that share another engine's reads (PostgreSQL's use of the SQLite ones).
   */
  commitIssue?(write: IssueWrite, audit: AuditAppend, events: readonly AuditEventInput[]): Promise<CommittedIssue>;
  get(jti: string): Promise<Credential | null>;
  /** False when unknown or already revoked (the first `revokedAt` stays); of concurrent calls one wins. */
  revoke(jti: string, at: number): Promise<boolean>;
  /** Revokes every unrevoked credential of the mandate; returns how many. */
  revokeByMandate(mandateId: string, at: number): Promise<number>;
  /** Revokes every unrevoked credential of the agent; returns how many. */
  revokeByAgent(agentId: string, at: number): Promise<number>;
  /** Oldest first (`issuedAt`, then `jti`). */
  listByMandate(mandateId: string): Promise<Credential[]>;
}
