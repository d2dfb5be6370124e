/**
 * OpenID SSF 1.0 push streams (RFC 8935) of the broker's transmitter, each owned by one audience
 * (a resource server), and an outbox of the SETs still to push. Every state change is one
 * conditional statement, so replicas sharing a database deliver each SET once.
 */
import type { SsfStream } from '../core/ssf.ts';

export type { SsfStream, StreamStatus } from '../core/ssf.ts';

export type SsfStreamPatch = Partial<Pick<SsfStream, 'endpointUrl' | 'eventsRequested' | 'status' | 'reason' | 'description' | 'updatedAt'>>;

export interface OutboxEntry {
  streamId: string;
  /** The SET's `jti`: unique per stream. */
  eventId: string;
  /** The SET claims (JSON), signed at each attempt with the then-current key. */
  payload: Record<string, unknown>;
  /** Failed attempts so far. */
  attempts: number;
  nextAttemptAt: number;
  createdAt: number;
}

export interface SsfStreamRepository {
  insert(stream: SsfStream): Promise<void>;
  get(id: string): Promise<SsfStream | null>;
  /** Streams of one audience, oldest first. */
  listByAudience(audience: string): Promise<SsfStream[]>;
  /**
   * The streams of one audience that take events about any of `subjectKeys`: those limited to no
   * subject (they take every event of their audience) and those holding one of the keys; oldest
   * first. One read, so the push path pays one round trip per revocation, not one per stream.
   */
  listForSubjects(audience: string, subjectKeys: readonly string[]): Promise<SsfStream[]>;
  /** Null when unknown. */
  update(id: string, patch: SsfStreamPatch): Promise<SsfStream | null>;
  /** Deletes the stream, its subjects and its outbox; false when unknown. */
  delete(id: string): Promise<boolean>;
  /** Subject keys (`jti:<jti>`, `id:<opaque id>`) the stream is limited to; empty means all. */
  subjects(streamId: string): Promise<string[]>;
  addSubject(streamId: string, key: string): Promise<void>;
  /** False when the stream did not hold the subject. */
  removeSubject(streamId: string, key: string): Promise<boolean>;
  /** False when the stream holds this event already (another replica enqueued it). */
  enqueue(entry: Omit<OutboxEntry, 'attempts'>): Promise<boolean>;
  /** Undelivered, unfailed entries due at `now`, oldest first. */
  due(now: number, limit: number): Promise<OutboxEntry[]>;
  /**
   * Leases a due entry until `until`; false when another replica leased it first or it is no
   * longer due.
   */
  lease(streamId: string, eventId: string, now: number, until: number): Promise<boolean>;
  markDelivered(streamId: string, eventId: string, at: number): Promise<void>;
  /** After a failed attempt (counted in `attempts`): retry at `nextAttemptAt`, or give up when it is null. */
  markFailed(streamId: string, eventId: string, error: string, nextAttemptAt: number | null, at: number): Promise<void>;
  /** A named cursor into the change feed (0 when never set). */
  cursor(name: string): Promise<number>;
  /** Moves the cursor forward only (a slower replica never moves it back). */
  advanceCursor(name: string, to: number): Promise<void>;
}
