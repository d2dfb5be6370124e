/**
 * Findings: borrowed human credentials reported by the scanner (`mandate scan --report` or the
 * admin API), kept as inventory entries. Only the fingerprint of the secret is ever stored.
 */
export type FindingStatus = 'open' | 'converted' | 'dismissed';
export const FINDING_STATUSES = ['open', 'converted', 'dismissed'] as const satisfies readonly FindingStatus[];

export interface FindingRecord {
  /** `fnd_` + 22 base64url characters. */
  id: string;
  /** One of `CREDENTIAL_KINDS` (core/finding.ts). */
  kind: string;
  /** The provider's API base, e.g. `https://api.github.com`. */
  service: string;
  /** Path relative to the scan root, or `env:<VAR>`. */
  file: string;
  /** 1-based; 0 for environment variables. */
  line: number;
  /** `sha256:` + base64url(SHA-256(secret)). */
  fingerprint: string;
  ownerGuess: string | null;
  reason: string;
  status: FindingStatus;
  createdAt: number;
  /** The human whose admin token recorded it. */
  recordedBy: string;
  decidedAt: number | null;
  decidedBy: string | null;
  dismissReason: string | null;
  /** The proposal made at conversion (agent registration, draft task, checklist), as stored JSON. */
  conversion: Record<string, unknown> | null;
}

/** The end of a finding's life: `open` → `converted` | `dismissed`, exactly once. */
export interface FindingDecision {
  status: 'converted' | 'dismissed';
  decidedAt: number;
  decidedBy: string;
  dismissReason?: string | null;
  conversion?: Record<string, unknown> | null;
}

export interface FindingRepository {
  /**
   * Inserts the finding unless one with the same (fingerprint, file, line) exists; either way
   * returns the stored record and whether this call created it (atomic across replicas).
   */
  record(finding: FindingRecord): Promise<{ finding: FindingRecord; created: boolean }>;
  get(id: string): Promise<FindingRecord | null>;
  /** Oldest first; all statuses when `status` is absent. */
  list(status?: FindingStatus): Promise<FindingRecord[]>;
  /** Applies the decision only while the finding is `open`; false otherwise (one writer wins). */
  decide(id: string, decision: FindingDecision): Promise<boolean>;
}

/** Lifecycle flags (services/lifecycle.ts) currently raised on agents. */
export type LifecycleFlagKind = 'orphan' | 'stale' | 'review_overdue';
export const LIFECYCLE_FLAG_KINDS = ['orphan', 'stale', 'review_overdue'] as const satisfies readonly LifecycleFlagKind[];

export interface LifecycleFlag {
  agentId: string;
  flag: LifecycleFlagKind;
  raisedAt: number;
  /** What was done when it was raised: `notify` or `suspend`. */
  action: string;
}

export interface LifecycleFlagRepository {
  /** Raised flags, by agent then flag. */
  list(): Promise<LifecycleFlag[]>;
  /** Raises the flag unless already raised; true when this call raised it (atomic across replicas). */
  raise(flag: LifecycleFlag): Promise<boolean>;
  /** Clears a raised flag; true when there was one. */
  clear(agentId: string, flag: LifecycleFlagKind): Promise<boolean>;
}
