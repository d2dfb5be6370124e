/**
 * OpenID Shared Signals Framework 1.0 shapes for the broker's transmitter (PROTOCOL §7): the
 * transmitter metadata, stream configurations, and the SETs (RFC 8417) it pushes (RFC 8935).
 * Pure: no I/O; times in epoch seconds where the wire has them.
 */
import { JWT_TYP } from '@mandate/sdk/protocol';
import { PUSH_DELIVERY_METHOD, SSF_EVENT } from '@mandate/sdk/ssf-receiver';

export type StreamStatus = 'enabled' | 'paused' | 'disabled';

/** An SSF push stream (RFC 8935) of the broker's transmitter: a domain record, kept by the ssf-streams port. */
export interface SsfStream {
  /** `ssf_…` */
  id: string;
  /** The audience (resource server) that owns the stream; every SET on it is for this audience. */
  audience: string;
  /** RFC 8935 push endpoint. */
  endpointUrl: string;
  eventsRequested: string[];
  status: StreamStatus;
  reason: string | null;
  description: string | null;
  createdAt: number;
  updatedAt: number;
}

export { PUSH_DELIVERY_METHOD, SSF_EVENT };

export const SSF_PATH = {
  configuration: '/.well-known/ssf-configuration',
  streams: '/ssf/streams',
  status: '/ssf/status',
  addSubject: '/ssf/subjects/add',
  removeSubject: '/ssf/subjects/remove',
  verify: '/ssf/verify',
} as const;

/** The SET header (RFC 8417 §2.3). */
export const SET_HEADER = { typ: JWT_TYP.securityEvent } as const;

/** The events a stream may request: CAEP session-revoked only (verification is always delivered). */
export const EVENTS_SUPPORTED = [SSF_EVENT.sessionRevoked] as const;

/** SSF 1.0 §7.1 transmitter configuration metadata. Every URL derives from the issuer (PROTOCOL §1). */
export function ssfConfiguration(issuer: string, jwksUri: string): Record<string, unknown> {
  return {
    spec_version: '1_0',
    issuer,
    jwks_uri: jwksUri,
    delivery_methods_supported: [PUSH_DELIVERY_METHOD],
    configuration_endpoint: issuer + SSF_PATH.streams,
    status_endpoint: issuer + SSF_PATH.status,
    add_subject_endpoint: issuer + SSF_PATH.addSubject,
    remove_subject_endpoint: issuer + SSF_PATH.removeSubject,
    verification_endpoint: issuer + SSF_PATH.verify,
    // RFC 6749 §2.3.1: the audience's own credential, as at /introspect.
    authorization_schemes: [{ spec_urn: 'urn:ietf:rfc:6749' }],
    // Without added subjects a stream gets every event for its audience; added subjects narrow it.
    default_subjects: 'ALL',
  };
}

/** SSF 1.0 §8.1.1: a stream's configuration as the receiver reads it. */
export function streamConfiguration(stream: SsfStream, issuer: string): Record<string, unknown> {
  return {
    stream_id: stream.id,
    iss: issuer,
    aud: stream.audience,
    delivery: { method: PUSH_DELIVERY_METHOD, endpoint_url: stream.endpointUrl },
    events_supported: [...EVENTS_SUPPORTED],
    events_requested: stream.eventsRequested,
    events_delivered: stream.eventsRequested.filter((event) => (EVENTS_SUPPORTED as readonly string[]).includes(event)),
    ...(stream.description === null ? {} : { description: stream.description }),
  };
}

/** What a revocation names: one credential, or a whole mandate. */
export type RevokedSubject = { format: 'jwt_id'; jti: string } | { format: 'opaque'; id: string };

/** The key a stream's subject filter stores for a subject (`jti:…`, `id:…`). */
export function subjectKey(subject: RevokedSubject): string {
  return subject.format === 'jwt_id' ? `jti:${subject.jti}` : `id:${subject.id}`;
}

/** A receiver's `subject` (SSF 1.0 §8.1.3) as a filter key; null when not a subject this transmitter emits. */
export function parseSubject(value: unknown, issuer: string): string | null {
  if (typeof value !== 'object' || value === null) return null;
  const { format, iss, jti, id } = value as Record<string, unknown>;
  if (format === 'jwt_id' && iss === issuer && typeof jti === 'string' && jti !== '') return subjectKey({ format, jti });
  if (format === 'opaque' && typeof id === 'string' && id !== '') return subjectKey({ format, id });
  return null;
}

export interface SessionRevokedInput {
  issuer: string;
  audience: string;
  jti: string;
  iat: number;
  subject: RevokedSubject;
  /** The mandate the revoked credential or mandate belongs to (PROTOCOL §7 `txn`). */
  mandateId: string | null;
  /** When the revocation happened (epoch seconds). */
  eventTimestamp: number;
  initiatingEntity: 'admin' | 'user' | 'policy' | 'system';
  reason: string;
}

/** CAEP 1.0 §3.1 session-revoked SET: `sub_id` at the top level (SSF 1.0 §4), no `sub` or `exp` (RFC 8417 §2.2). */
export function sessionRevokedSet(input: SessionRevokedInput): Record<string, unknown> {
  const subId = input.subject.format === 'jwt_id' ? { format: 'jwt_id', iss: input.issuer, jti: input.subject.jti } : { format: 'opaque', id: input.subject.id };
  return {
    iss: input.issuer,
    aud: input.audience,
    iat: input.iat,
    jti: input.jti,
    ...(input.mandateId ? { txn: input.mandateId } : {}),
    sub_id: subId,
    events: {
      [SSF_EVENT.sessionRevoked]: { event_timestamp: input.eventTimestamp, initiating_entity: input.initiatingEntity, reason_admin: { en: input.reason } },
    },
  };
}

/** SSF 1.0 §8.1.4.1: the verification event names the stream as an opaque subject. */
export function verificationSet(input: { issuer: string; audience: string; jti: string; iat: number; streamId: string; state: string | undefined }): Record<string, unknown> {
  return {
    iss: input.issuer,
    aud: input.audience,
    iat: input.iat,
    jti: input.jti,
    sub_id: { format: 'opaque', id: input.streamId },
    events: { [SSF_EVENT.verification]: input.state === undefined ? {} : { state: input.state } },
  };
}
