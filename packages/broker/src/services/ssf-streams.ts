import { MandateError } from '../core/errors.ts';
import { EVENTS_SUPPORTED, parseSubject, PUSH_DELIVERY_METHOD, verificationSet } from '../core/ssf.ts';
import type { AuditLog } from '../ports/audit-log.ts';
import type { SsfStream, StreamStatus } from '../ports/ssf-streams.ts';
import { endpointRefusal, systemResolver, type HostResolver } from './ssf-endpoint.ts';
import type { StatusListDeps } from './status-list.ts';

export interface StreamRequest {
  delivery?: { method?: string; endpoint_url?: string } | undefined;
  events_requested?: string[] | undefined;
  description?: string | undefined;
}

export type SsfStreamDeps = StatusListDeps & { audit: AuditLog; resolveHost?: HostResolver };

const LOOPBACK = new Set(['127.0.0.1', '[::1]', 'localhost']);
const STATUSES: readonly StreamStatus[] = ['enabled', 'paused', 'disabled'];

/**
 * OpenID SSF 1.0 §8.1 stream management for one audience (the resource server that owns the
 * stream, authenticated by its introspection credential). A stream another audience owns is
 * reported as not found. Pushes are authenticated by the SET signature (RFC 8935 §2), so no
 * `authorization_header` is stored: the broker keeps no receiver secret.
 */
export function createSsfStreamService(deps: SsfStreamDeps) {
  const { store, clock, random, config } = deps;
  const push = config.revocation.push;

  /** SSRF guard: the broker must not be made to POST into its own network (ssf-endpoint.ts). */
  const publicEndpoint = async (delivery: StreamRequest['delivery']): Promise<string> => {
    const endpoint = endpointOf(delivery);
    const refusal = await endpointRefusal(new URL(endpoint), push, deps.resolveHost ?? systemResolver);
    if (refusal !== null) throw new MandateError('ERR_SSF_ENDPOINT_FORBIDDEN', `delivery.endpoint_url refused: ${refusal}`);
    return endpoint;
  };

  const owned = async (audience: string, id: unknown): Promise<SsfStream> => {
    const stream = typeof id === 'string' ? await store.ssfStreams.get(id) : null;
    if (!stream || stream.audience !== audience) throw new MandateError('ERR_SSF_STREAM_NOT_FOUND', 'no such stream for this audience');
    return stream;
  };

  const audit = (type: 'ssf_stream.created' | 'ssf_stream.updated' | 'ssf_stream.deleted', stream: SsfStream, requestId: string) =>
    deps.audit.record({ type, actor: stream.audience, requestId, data: { stream_id: stream.id, endpoint_url: stream.endpointUrl, status: stream.status } });

  return {
    owned,

    async create(audience: string, request: StreamRequest, requestId: string): Promise<SsfStream> {
      const endpointUrl = await publicEndpoint(request.delivery);
      if ((await store.ssfStreams.listByAudience(audience)).length >= push.maxStreamsPerAudience)
        throw new MandateError('ERR_SSF_STREAM_LIMIT', `an audience holds at most ${push.maxStreamsPerAudience} streams (revocation.push.maxStreamsPerAudience)`);
      const now = clock.now();
      const stream: SsfStream = {
        id: `ssf_${random.base64url(16)}`, audience, endpointUrl, eventsRequested: eventsOf(request.events_requested),
        status: 'enabled', reason: null, description: request.description ?? null, createdAt: now, updatedAt: now,
      };
      await store.ssfStreams.insert(stream);
      await audit('ssf_stream.created', stream, requestId);
      return stream;
    },

    list: (audience: string) => store.ssfStreams.listByAudience(audience),

    /** SSF 1.0 §8.1.1.3 (PATCH): only the members given change. */
    async update(audience: string, id: unknown, request: StreamRequest, requestId: string): Promise<SsfStream> {
      await owned(audience, id);
      const patch = {
        ...(request.delivery === undefined ? {} : { endpointUrl: await publicEndpoint(request.delivery) }),
        ...(request.events_requested === undefined ? {} : { eventsRequested: eventsOf(request.events_requested) }),
        ...(request.description === undefined ? {} : { description: request.description }),
        updatedAt: clock.now(),
      };
      const stream = (await store.ssfStreams.update(id as string, patch))!;
      await audit('ssf_stream.updated', stream, requestId);
      return stream;
    },

    async remove(audience: string, id: unknown, requestId: string): Promise<void> {
      const stream = await owned(audience, id);
      if (await store.ssfStreams.delete(stream.id)) await audit('ssf_stream.deleted', stream, requestId);
    },

    /** SSF 1.0 §8.1.2.2: enabled, paused (events are held) or disabled (events are dropped). */
    async setStatus(audience: string, id: unknown, status: string, reason: string | undefined, requestId: string): Promise<SsfStream> {
      await owned(audience, id);
      if (!STATUSES.includes(status as StreamStatus)) throw new MandateError('ERR_SSF_STREAM_INVALID', `status must be one of ${STATUSES.join(', ')}`);
      const stream = (await store.ssfStreams.update(id as string, { status: status as StreamStatus, reason: reason ?? null, updatedAt: clock.now() }))!;
      await audit('ssf_stream.updated', stream, requestId);
      return stream;
    },

    async addSubject(audience: string, id: unknown, subject: unknown): Promise<void> {
      const stream = await owned(audience, id);
      await store.ssfStreams.addSubject(stream.id, subjectOf(subject, config.issuer));
    },

    async removeSubject(audience: string, id: unknown, subject: unknown): Promise<void> {
      const stream = await owned(audience, id);
      if (!(await store.ssfStreams.removeSubject(stream.id, subjectOf(subject, config.issuer))))
        throw new MandateError('ERR_SSF_SUBJECT_NOT_FOUND', 'the stream does not hold this subject');
    },

    /** SSF 1.0 §8.1.4.2: queues a verification event; the transmitter pushes it like any other. */
    async verify(audience: string, id: unknown, state: string | undefined): Promise<void> {
      const stream = await owned(audience, id);
      const now = clock.now();
      const jti = random.base64url(16);
      const payload = verificationSet({ issuer: config.issuer, audience, jti, iat: Math.floor(now / 1000), streamId: stream.id, state });
      await store.ssfStreams.enqueue({ streamId: stream.id, eventId: `verify.${jti}`, payload, nextAttemptAt: now, createdAt: now });
    },
  };
}

export type SsfStreamService = ReturnType<typeof createSsfStreamService>;

/** RFC 8935 push only; https, or http on a loopback host (only with revocation.push.allowLoopback). */
function endpointOf(delivery: StreamRequest['delivery']): string {
  if (delivery?.method !== PUSH_DELIVERY_METHOD) throw new MandateError('ERR_SSF_STREAM_INVALID', `delivery.method must be ${PUSH_DELIVERY_METHOD}`);
  const url = URL.canParse(delivery.endpoint_url ?? '') ? new URL(delivery.endpoint_url!) : null;
  if (!url || url.hash || url.username || url.password || !(url.protocol === 'https:' || (url.protocol === 'http:' && LOOPBACK.has(url.hostname))))
    throw new MandateError('ERR_SSF_STREAM_INVALID', 'delivery.endpoint_url must be an https URL (http only on a loopback host), without credentials or fragment');
  return url.href;
}

function eventsOf(requested: string[] | undefined): string[] {
  const events = requested ?? [...EVENTS_SUPPORTED];
  const unknown = events.filter((event) => !(EVENTS_SUPPORTED as readonly string[]).includes(event));
  if (unknown.length > 0) throw new MandateError('ERR_SSF_STREAM_INVALID', `unsupported events: ${unknown.join(', ')}`);
  return [...new Set(events)];
}

function subjectOf(subject: unknown, issuer: string): string {
  const key = parseSubject(subject, issuer);
  if (key === null) throw new MandateError('ERR_SSF_SUBJECT_INVALID', 'subject must be {format: "jwt_id", iss, jti} of this issuer or {format: "opaque", id}');
  return key;
}
