import type { KeyRecord } from '../core/model.ts';

/** Broker signing keys, shared by replicas through the store. */
export interface KeyStore {
  insert(record: KeyRecord): Promise<void>;
  /** Every key ever created, oldest first (retired keys stay for audit verification). */
  list(): Promise<KeyRecord[]>;
  get(kid: string): Promise<KeyRecord | null>;
  /** Sets `retiresAt` on every key but `exceptKid` that has none yet; returns how many. */
  scheduleRetirement(retiresAt: number, exceptKid: string): Promise<number>;
  /**
   * Replaces a key's stored private JWK only while it still equals `expected` (compare-and-set, so
   * replicas resealing at the same start agree): keys at rest (docs/keys-at-rest.md). True if it did.
   */
  replacePrivateJwk(kid: string, expected: KeyRecord['privateJwk'], next: KeyRecord['privateJwk']): Promise<boolean>;
}
