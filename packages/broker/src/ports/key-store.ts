import type { KeyRecord } from '../core/model.ts';

/** Broker signing keys, shared by replicas through the store. */
export interface KeyStore {
  insert(record: KeyRecord): Promise<void>;
  /** Every key ever created, oldest first (retired keys stay for audit verification). */
  list(): Promise<KeyRecord[]>;
  get(kid: string): Promise<KeyRecord | null>;
  /** Sets `retiresAt` on every key but `exceptKid` that has none yet; returns how many. */
  scheduleRetirement(retiresAt: number, exceptKid: string): Promise<number>;
}
