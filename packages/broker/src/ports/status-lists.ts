/**
 * Token Status List slots (draft-ietf-oauth-status-list, PROTOCOL §7). A slot is one index of one
 * list held by one access token (`jti`) until `reusableAt`; the bit at that index is 1 while the
 * holder's credential is revoked. Indexes are drawn at random by the caller; the store only
 * guarantees that a held index is never handed out again before it is reusable.
 */
export interface StatusListSlot {
  listId: string;
  idx: number;
  jti: string;
  /** Epoch ms: not before the holder's `exp` (plus the verifiers' clock skew). */
  reusableAt: number;
}

/** A live slot holder whose credential belongs to one agent (for SSF events on agent revocation). */
export interface SlotHolder {
  jti: string;
  audience: string;
  mandateId: string | null;
  revoked: boolean;
}

export interface StatusListRepository {
  /** Creates the list if it does not exist yet (idempotent across replicas). */
  ensureList(id: string, size: number, now: number): Promise<void>;
  /** Sizes of the existing lists by id, ascending by creation. */
  lists(): Promise<Array<{ id: string; size: number }>>;
  /**
   * Takes the slot for `slot.jti` if it is free: never held, or held by a token whose slot became
   * reusable at or before `now`. One statement, so of concurrent claims on one index one wins.
   */
  claim(slot: StatusListSlot, now: number): Promise<boolean>;
  /** The slot a token holds, if any. */
  slotOf(jti: string): Promise<StatusListSlot | null>;
  /** Indexes of `listId` whose current holder (not yet reusable) has a revoked credential. */
  revokedIndexes(listId: string, now: number): Promise<number[]>;
  /** Holders of live slots whose credential belongs to `agentId`. */
  holdersOfAgent(agentId: string, now: number): Promise<SlotHolder[]>;
}
