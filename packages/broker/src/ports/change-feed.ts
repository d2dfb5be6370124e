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
   * this way. Pushed where the store can (PostgreSQL LISTEN/NOTIFY), and in any case polled at
   * least every `pollIntervalMs`: that interval bounds how late a change can arrive.
   */
  subscribe?(listener: ChangeListener, options?: SubscribeOptions): ChangeSubscription;
}

export type ChangeListener = (change: Change) => void | Promise<void>;

export interface SubscribeOptions {
  from?: number;
  pollIntervalMs?: number;
  onError?: (error: Error) => void;
}

export interface ChangeSubscription {
  close(): Promise<void>;
}
