/** Access reviews (DESIGN main loop step 10): owners certify each active mandate on a schedule. */
export type ReviewDecision = 'keep' | 'revoke';

export interface MandateReview {
  mandateId: string;
  agentId: string;
  /** When the next certification is due (epoch ms). */
  dueAt: number;
  /** When the owners were last reminded for the current due date; null if not yet. */
  remindedAt: number | null;
  reviewedAt: number | null;
  reviewedBy: string | null;
  decision: ReviewDecision | null;
}

/** An active mandate that has no review scheduled yet. */
export interface Unscheduled {
  mandateId: string;
  agentId: string;
  /** When it was approved (the schedule counts from there); its creation time if unknown. */
  since: number;
}

export interface ReviewFilter {
  /** Only reviews due at or before this time. */
  dueBy?: number;
  /** Only these agents' mandates (an owner's view); an empty list matches nothing. */
  agentIds?: readonly string[];
}

export interface ReviewRepository {
  /** Mandates stored `active` without a review row, oldest first. */
  unscheduled(limit: number): Promise<Unscheduled[]>;
  /** Creates the mandate's review row due at `dueAt`; false (nothing changed) when it has one. */
  schedule(mandateId: string, agentId: string, dueAt: number): Promise<boolean>;
  get(mandateId: string): Promise<MandateReview | null>;
  /** Reviews of mandates stored `active`, soonest due first (then mandate id). */
  list(filter: ReviewFilter, limit: number): Promise<MandateReview[]>;
  /** Sets `remindedAt` while it is null; of concurrent callers exactly one gets true. */
  markReminded(mandateId: string, at: number): Promise<boolean>;
  /**
   * Records a decision and the next due date, clearing `remindedAt`, only while the stored due
   * date is still `expectedDueAt`: of two concurrent reviews of one period exactly one wins.
   */
  record(mandateId: string, expectedDueAt: number, review: { at: number; by: string; decision: ReviewDecision; nextDueAt: number }): Promise<boolean>;
}
