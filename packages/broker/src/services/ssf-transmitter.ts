import { SET_MEDIA_TYPE } from '@mandate/sdk/ssf-receiver';
import { sessionRevokedSet, SET_HEADER, SSF_EVENT, subjectKey, type RevokedSubject, type SessionRevokedInput } from '../core/ssf.ts';
import type { Mandate } from '../core/mandate.ts';
import type { Change, ChangeSubscription } from '../ports/change-feed.ts';
import type { OutboxEntry, SsfStream } from '../ports/ssf-streams.ts';
import { descendantsOf } from './delegation-tree.ts';
import { endpointRefusal, systemResolver, type HostResolver } from './ssf-endpoint.ts';
import type { StatusListDeps } from './status-list.ts';

/** A revocation as the SETs describe it: who is affected, for which audience. */
interface Revocation {
  audience: string;
  subject: RevokedSubject;
  mandateId: string | null;
  initiatingEntity: SessionRevokedInput['initiatingEntity'];
}

const CURSOR = 'ssf-transmitter';
const BATCH = 200;
/** A lease outlives one push attempt, so a replica that died mid-push lets another retry. */
const LEASE_MARGIN_MS = 1000;
/** A receiver answers 202 or a small RFC 8935 error object: more than this is not read. */
export const MAX_RESPONSE_BYTES = 16 * 1024;

export interface TransmitterOptions {
  fetch?: typeof fetch;
  /** Resolves endpoint host names before each push (default: the system resolver). */
  resolveHost?: HostResolver;
  onError?: (error: unknown) => void;
}

/** The response body as text, at most MAX_RESPONSE_BYTES of it (the rest is never downloaded). */
async function cappedText(response: Response): Promise<string> {
  if (!response.body) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let length = 0;
  try {
    for (let read = await reader.read(); !read.done; read = await reader.read()) {
      chunks.push(read.value);
      length += read.value.length;
      if (length >= MAX_RESPONSE_BYTES) break;
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
  return Buffer.concat(chunks).subarray(0, MAX_RESPONSE_BYTES).toString('utf8');
}

/**
 * The OpenID SSF transmitter (PROTOCOL §7): reads revocations from the change feed (so every
 * replica sees every revocation, whichever replica made it), turns each into CAEP session-revoked
 * SETs for the streams of the revoked token's audience, queues them in the outbox (one row per
 * stream and event: replicas enqueue and deliver each SET once), and pushes them (RFC 8935) with
 * retries and exponential backoff.
 */
export function createSsfTransmitter(deps: StatusListDeps, options: TransmitterOptions = {}) {
  const { store, clock, config } = deps;
  const push = config.revocation.push;
  const fetchImpl = options.fetch ?? globalThis.fetch.bind(globalThis);
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let again = false;
  let subscription: ChangeSubscription | null = null;
  /** The newest change this replica has read (undefined: read the shared cursor first). */
  let local: number | undefined;

  /** What one change revokes; `token.revoked` comes from agents, the rest from the admin API and cascades. */
  const revocationsOf = async (change: Change): Promise<Revocation[]> => {
    if (change.topic === 'token.revoked') {
      const credential = await store.credentials.get(change.key);
      return credential ? [{ audience: credential.audience, subject: { format: 'jwt_id', jti: credential.jti }, mandateId: credential.mandateId, initiatingEntity: 'user' }] : [];
    }
    if (change.topic === 'mandate.revoked') {
      const mandate = await store.mandates.get(change.key);
      return mandate ? [mandateRevocation(mandate, 'admin')] : [];
    }
    // An overdue review suspends a mandate and ends the tokens of every mandate below it (reviews.ts).
    if (change.topic === 'mandate.suspended') {
      const mandate = await store.mandates.get(change.key);
      return mandate ? [mandate, ...(await descendantsOf(store, mandate.id))].map((m) => mandateRevocation(m, 'policy')) : [];
    }
    if (change.topic === 'agent.suspended' || change.topic === 'agent.retired') {
      const holders = await store.statusLists.holdersOfAgent(change.key, clock.now());
      return holders.filter((h) => h.revoked).map((h) => ({ audience: h.audience, subject: { format: 'jwt_id', jti: h.jti }, mandateId: h.mandateId, initiatingEntity: 'policy' }));
    }
    return [];
  };

  const mandateRevocation = (mandate: Mandate, initiatingEntity: Revocation['initiatingEntity']): Revocation =>
    ({ audience: mandate.task.locations[0], subject: { format: 'opaque', id: mandate.id }, mandateId: mandate.id, initiatingEntity });

  /** Streams that take this revocation: enabled, asking for session-revoked, and not limited to other subjects. */
  const streamsFor = async (revocation: Revocation) => {
    const keys = [subjectKey(revocation.subject), ...(revocation.mandateId !== null ? [`id:${revocation.mandateId}`] : [])];
    const streams = await store.ssfStreams.listForSubjects(revocation.audience, keys);
    return streams.filter((stream) => stream.status !== 'disabled' && stream.eventsRequested.includes(SSF_EVENT.sessionRevoked));
  };

  /**
   * Queues the change's SETs; each one this replica enqueued (already leased to it) is pushed at
   * once, with the stream just read, and its push added to `pushes`.
   */
  const enqueueChange = async (change: Change, pushes: Array<Promise<unknown>>): Promise<void> => {
    for (const revocation of await revocationsOf(change)) {
      for (const stream of await streamsFor(revocation)) {
        const now = clock.now();
        const payload = sessionRevokedSet({
          ...revocation, issuer: config.issuer, audience: stream.audience, jti: deps.random.base64url(16), iat: Math.floor(now / 1000),
          eventTimestamp: Math.floor(change.at / 1000), reason: change.topic,
        });
        // The event id is the change and the subject: every replica derives the same one, even one
        // that reads the change later and finds its list of subjects grown or shrunk. The first
        // attempt time is a lease: the winner pushes at once, the retry loop only after it.
        const entry = { streamId: stream.id, eventId: `${change.cursor}.${subjectKey(revocation.subject)}`, payload, nextAttemptAt: now + push.timeout + LEASE_MARGIN_MS, createdAt: now };
        if (await store.ssfStreams.enqueue(entry)) pushes.push(deliver({ ...entry, attempts: 0 }, stream));
      }
    }
  };

  /** One push (RFC 8935 §2): 202 is delivered; a 400 with `err` is final; anything else is retried. */
  const attempt = async (entry: OutboxEntry, stream: SsfStream): Promise<{ ok: true } | { ok: false; error: string; final: boolean }> => {
    // Resolved again at every push: a name that was public when the stream was made may not be now.
    const refusal = await endpointRefusal(new URL(stream.endpointUrl), push, options.resolveHost ?? systemResolver);
    if (refusal !== null) return { ok: false, error: `endpoint refused: ${refusal}`, final: false };
    const set = deps.keys.sign({ ...SET_HEADER }, entry.payload);
    try {
      const response = await fetchImpl(stream.endpointUrl, {
        method: 'POST', headers: { 'content-type': SET_MEDIA_TYPE, accept: 'application/json' }, body: set,
        redirect: 'error', signal: AbortSignal.timeout(push.timeout),
      });
      const body = await cappedText(response).catch(() => '');
      if (response.status === 202) return { ok: true };
      const err = response.status === 400 ? (JSON.parse(body || '{}') as { err?: unknown }).err : undefined;
      return { ok: false, error: `HTTP ${response.status}${typeof err === 'string' ? ` ${err}` : ''}`, final: typeof err === 'string' };
    } catch (error) {
      return { ok: false, error: (error as Error).name === 'SyntaxError' ? 'HTTP 400 (no JSON body)' : 'unreachable', final: false };
    }
  };

  /**
   * One attempt at a due entry: leased first, unless this replica has just enqueued it (`leased`,
   * with the stream it read then: its first push goes out without another read).
   */
  const deliver = async (entry: OutboxEntry, leased?: SsfStream) => {
    const now = clock.now();
    if (!leased && !(await store.ssfStreams.lease(entry.streamId, entry.eventId, now, now + push.timeout + LEASE_MARGIN_MS))) return;
    const stream = leased ?? (await store.ssfStreams.get(entry.streamId));
    if (!stream) return;
    // SSF 1.0 §8.1.2: a paused stream holds its events, a disabled one drops them.
    if (stream.status !== 'enabled') {
      const next = stream.status === 'paused' ? now + push.retryBase : null;
      return store.ssfStreams.markFailed(entry.streamId, entry.eventId, `stream ${stream.status}`, next, now);
    }
    const outcome = await attempt(entry, stream);
    if (outcome.ok) return store.ssfStreams.markDelivered(entry.streamId, entry.eventId, clock.now());
    const attempts = entry.attempts + 1;
    const next = outcome.final || attempts >= push.maxAttempts ? null : clock.now() + push.retryBase * 2 ** (attempts - 1);
    await store.ssfStreams.markFailed(entry.streamId, entry.eventId, outcome.error, next, clock.now());
  };

  /**
   * Reads new changes, queues their SETs, then pushes whatever is due (in parallel: one slow
   * receiver delays no other). The feed is read from where this replica got to (`local`), not from
   * the shared cursor: every replica is woken by every change, and one read fewer per wake is one
   * round trip fewer before the push. The shared cursor is only where a (re)started replica begins.
   */
  const tick = async (): Promise<void> => {
    let cursor = (local ??= await store.ssfStreams.cursor(CURSOR));
    const pushes: Array<Promise<unknown>> = [];
    try {
      for (let changes = await store.changes.since(cursor, BATCH); changes.length > 0; changes = await store.changes.since(cursor, BATCH)) {
        for (const change of changes) await enqueueChange(change, pushes);
        cursor = changes.at(-1)!.cursor;
        local = cursor;
        await store.ssfStreams.advanceCursor(CURSOR, cursor);
      }
      for (const entry of await store.ssfStreams.due(clock.now(), BATCH)) pushes.push(deliver(entry));
    } catch (error) {
      // The pushes already under way finish (their failures are the retry loop's), and the next
      // tick starts again from the shared cursor: after a failover or a restore the feed may have
      // been rewound below this replica's own position.
      await Promise.allSettled(pushes);
      local = undefined;
      throw error;
    }
    await Promise.all(pushes);
  };

  const loop = () => {
    running = tick()
      .catch((error: unknown) => options.onError?.(error))
      .finally(() => {
        running = undefined;
        if (timer !== undefined) timer = setTimeout(loop, again ? 0 : push.pollInterval).unref();
        again = false;
      });
  };

  /**
   * A change was committed: in this process (the store wakes its subscribers right after the
   * commit), or on another replica (PostgreSQL LISTEN/NOTIFY). Read the feed now rather than at the
   * next poll, which is only the fallback for a lost notification (bench/README.md, P8 push). Never
   * two ticks at once: during a tick, the next one is only brought forward.
   */
  const wake = () => {
    if (timer === undefined) return; // stopped
    if (running) {
      again = true;
      return;
    }
    clearTimeout(timer);
    loop();
  };

  return {
    tick,
    /** Starts the loop at the feed's newest change: history before the first start is not pushed. */
    async start(): Promise<void> {
      if ((await store.ssfStreams.cursor(CURSOR)) === 0) await store.ssfStreams.advanceCursor(CURSOR, await store.changes.latest());
      timer = setTimeout(loop, 0).unref();
      // Polling stays the bound (a lost notification waits at most pollInterval); the subscription's own
      // fallback poll is the store's (5 s default), as the transmitter polls anyway. The subscription
      // shares the replica's one LISTEN connection with key sync and metrics (change-hub.ts).
      subscription = store.changes.subscribe?.(() => wake(), { pollIntervalMs: config.store.pollInterval, onWake: wake, onError: (error) => options.onError?.(error) }) ?? null;
    },
    async stop(): Promise<void> {
      clearTimeout(timer);
      timer = undefined;
      await subscription?.close();
      subscription = null;
      await running;
    },
  };
}

export type SsfTransmitter = ReturnType<typeof createSsfTransmitter>;
