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
}
