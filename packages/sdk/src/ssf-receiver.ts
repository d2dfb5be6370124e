/**
 * A resource server's receiver for the broker's OpenID SSF push stream: CAEP `session-revoked`
 * SETs (RFC 8417) pushed over HTTP (RFC 8935). Each SET is verified (typ `secevent+jwt`, alg
 * allow-list, signature against the issuer's JWKS, `iss`, `aud`, no `sub`/`exp`, known events),
 * then the revoked `jti` or mandate id is remembered in a bounded in-memory set that the verifier
 * consults (`createVerifier({ ..., revocations: receiver })`). A SET older than `retainSeconds`, from
 * the future, or seen before (its `jti`) is not applied again.
 *
 * @example
 * ```ts
 * import { createSsfReceiver, registerSsfStream } from '@mandate/sdk/ssf-receiver';
 * const receiver = createSsfReceiver({ issuer, audience, jwks: `${issuer}/jwks` });
 * http.createServer((req, res) => req.url === '/ssf/events' ? receiver.nodeHandler(req, res) : app(req, res));
 * await registerSsfStream({ issuer, clientId: audience, clientSecret, endpointUrl: 'https://api.example.com/ssf/events' });
 * ```
 *
 * @module
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { JSONWebKeySet } from 'jose';
import { completeJws, parseJwsHeader, signatureVerifies, type ParsedJws } from './jws/index.ts';
import { JWT_TYP } from './protocol/index.ts';
import { createKeySource, type KeySource } from './resource/keys.ts';
import { ExpiringMap } from './util/expiring-map.ts';

/** CAEP 1.0 §3.1 and SSF 1.0 §8.1.4.1 event types. */
export const SSF_EVENT = {
  sessionRevoked: 'https://schemas.openid.net/secevent/caep/event-type/session-revoked',
  verification: 'https://schemas.openid.net/secevent/ssf/event-type/verification',
} as const;
/** RFC 8935 §2: the push delivery method and the SET media type. */
export const PUSH_DELIVERY_METHOD = 'urn:ietf:rfc:8935';
export const SET_MEDIA_TYPE = 'application/secevent+jwt';

const MAX_BODY = 65_536;
/** How far a SET's `iat` may be ahead of this clock (RFC 8417 §2.2 leaves freshness to the recipient). */
const MAX_SKEW_SECONDS = 60;

export interface SsfReceiverOptions {
  /** The broker's issuer, compared with the SET's `iss`. */
  issuer: string;
  /** This resource server's audience, which must be the SET's `aud`. */
  audience: string;
  jwks: string | URL | JSONWebKeySet;
  fetch?: typeof fetch;
  /** How long a revoked id is remembered (longer than any token lives). Default 600. */
  retainSeconds?: number;
  /** Most ids remembered; the oldest are forgotten first. Default 100000. */
  maxEntries?: number;
  /** Called with the `state` of each verification event. */
  onVerification?: (state: string | undefined) => void;
  now?: () => number;
}

/**
 * RFC 8935 §2.2 / §2.3: 202 on success, 400 with `{err, description}` for a SET refused for good,
 * and 503 without a body when it could not be checked now (the issuer's JWKS was unreachable): a
 * 400 with `err` is final for the transmitter, so a transient failure must not answer it, or the
 * revocation the SET carries would be lost.
 */
export interface PushOutcome {
  status: 202 | 400 | 503;
  body?: { err: string; description: string };
}

export interface SsfReceiver {
  /** Handles one pushed SET (the raw request body and its Content-Type). */
  receive(body: string, contentType: string | undefined): Promise<PushOutcome>;
  /** A node:http handler for the push endpoint. */
  nodeHandler(request: IncomingMessage, response: ServerResponse): void;
  /**
   * Whether a token was revoked by a pushed event: its `jti` (always), or its mandate when the token
   * was issued (`iat`) no later than the event (a resumed mandate's new tokens are not).
   */
  isRevoked(claims: { jti?: unknown; iat?: unknown; authorization_details?: unknown }): boolean;
  /** How many ids are remembered. */
  readonly size: number;
}

class PushError extends Error {
  constructor(readonly err: string, message: string) {
    super(message);
  }
}

export function createSsfReceiver(options: SsfReceiverOptions): SsfReceiver {
  const keys = createKeySource(options.jwks, options.fetch);
  const now = options.now ?? Date.now;
  const retainMs = (options.retainSeconds ?? 600) * 1000;
  const limit = options.maxEntries ?? 100_000;
  /** Revoked subject → until when it is remembered (ms) and the event time it covers (s; Infinity for a jti). */
  const revoked = new ExpiringMap<Revoked>(limit);
  /** SET jti → until when it is remembered (ms): a replayed or retried SET is not applied twice. */
  const seen = new ExpiringMap<Revoked>(limit);

  const apply = (payload: Record<string, unknown>) => {
    const events = payload.events as Record<string, Record<string, unknown>>;
    for (const type of Object.keys(events)) {
      if (type === SSF_EVENT.verification) options.onVerification?.(typeof events[type]?.state === 'string' ? (events[type].state as string) : undefined);
      else {
        const key = subjectKey(payload.sub_id, options.issuer);
        // Per credential: that token is dead for good. Per mandate: tokens issued up to the event.
        const at = key.startsWith('jti:') ? Infinity : eventTime(events[type], payload.iat as number);
        revoked.set(key, { until: now() + retainMs, at: Math.max(at, revoked.get(key)?.at ?? -Infinity) }, now());
      }
    }
  };

  const receive = async (body: string, contentType: string | undefined): Promise<PushOutcome> => {
    try {
      if (contentType?.split(';')[0]?.trim().toLowerCase() !== SET_MEDIA_TYPE) throw new PushError('invalid_request', `the body must be ${SET_MEDIA_TYPE}`);
      const payload = await verifySet(body.trim(), keys, options);
      const iat = payload.iat as number;
      if (iat * 1000 < now() - retainMs || iat > now() / 1000 + MAX_SKEW_SECONDS) throw new PushError('invalid_request', 'the SET iat is outside the accepted window');
      if (seen.live(String(payload.jti), now())) return { status: 202 }; // RFC 8935 §2.3: already accepted
      apply(payload);
      seen.set(String(payload.jti), { until: iat * 1000 + retainMs, at: iat }, now());
      return { status: 202 };
    } catch (error) {
      if (error instanceof PushError) return { status: 400, body: { err: error.err, description: error.message } };
      if ((error as { code?: unknown }).code === 'ERR_JWKS_UNAVAILABLE') return { status: 503 };
      throw error;
    }
  };

  return {
    receive,
    nodeHandler(request, response) {
      readBody(request)
        .then((body) => receive(body, request.headers['content-type']))
        .then((outcome) => send(response, outcome), () => send(response, { status: 400, body: { err: 'invalid_request', description: 'the SET could not be read' } }));
    },
    isRevoked(claims) {
      if (revoked.live(`jti:${String(claims.jti)}`, now())) return true;
      const mandateId = (claims.authorization_details as Array<{ delegation?: { id?: unknown } }> | undefined)?.[0]?.delegation?.id;
      if (typeof mandateId !== 'string' || !revoked.live(`id:${mandateId}`, now())) return false;
      return typeof claims.iat !== 'number' || claims.iat <= revoked.get(`id:${mandateId}`)!.at;
    },
    get size() {
      return revoked.size;
    },
  };
}

interface Revoked {
  until: number;
  at: number;
}

/** CAEP 1.0 §3.1: `event_timestamp` is when the session was revoked; the SET's `iat` if absent. */
function eventTime(event: Record<string, unknown> | undefined, iat: number): number {
  const at = event?.event_timestamp;
  return typeof at === 'number' && Number.isFinite(at) ? at : iat;
}

/** PROTOCOL §7: `{format: "jwt_id", iss, jti}` per credential, `{format: "opaque", id}` per mandate. */
function subjectKey(subId: unknown, issuer: string): string {
  const { format, iss, jti, id } = (subId ?? {}) as Record<string, unknown>;
  if (format === 'jwt_id' && iss === issuer && typeof jti === 'string' && jti !== '') return `jti:${jti}`;
  if (format === 'opaque' && typeof id === 'string' && id !== '') return `id:${id}`;
  throw new PushError('invalid_request', 'the SET sub_id is not a jwt_id or opaque subject of this issuer');
}

/** RFC 8417 §2 with SSF 1.0 §4: one known event, the issuer's key, our audience, no sub or exp. */
async function verifySet(token: string, keys: KeySource, options: SsfReceiverOptions): Promise<Record<string, unknown>> {
  let jws: ParsedJws;
  try {
    const head = parseJwsHeader(token);
    if (head.header.typ !== JWT_TYP.securityEvent) throw new PushError('invalid_request', `typ must be ${JWT_TYP.securityEvent}`);
    jws = completeJws(head);
  } catch (error) {
    throw error instanceof PushError ? error : new PushError('invalid_request', 'the body is not a valid SET');
  }
  const kid = typeof jws.header.kid === 'string' ? jws.header.kid : undefined;
  // keysFor may throw before returning a promise: call it inside one.
  const candidates = await (async () => keys.keysFor(jws.alg, kid))().catch((error: unknown) => {
    if ((error as { code?: unknown }).code === 'ERR_JWKS_UNAVAILABLE') throw error; // retryable: 503 in `receive`
    throw new PushError('invalid_key', 'no issuer key matches the SET');
  });
  if (!candidates.some((key) => signatureVerifies(jws, key))) throw new PushError('invalid_key', 'the SET signature is invalid');
  const payload = jws.payload as Record<string, unknown>;
  if (payload.iss !== options.issuer) throw new PushError('invalid_issuer', 'the SET is from another issuer');
  const aud = Array.isArray(payload.aud) ? payload.aud : [payload.aud];
  if (!aud.includes(options.audience)) throw new PushError('invalid_audience', 'the SET is for another audience');
  if ('sub' in payload || 'exp' in payload) throw new PushError('invalid_request', 'a SET carries no sub or exp claim');
  if (typeof payload.jti !== 'string' || typeof payload.iat !== 'number') throw new PushError('invalid_request', 'the SET needs jti and iat');
  const events = payload.events;
  const types = typeof events === 'object' && events !== null && !Array.isArray(events) ? Object.keys(events) : [];
  if (types.length !== 1 || !Object.values(SSF_EVENT).includes(types[0] as never)) throw new PushError('invalid_request', 'the SET must carry one known event');
  return payload;
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let length = 0;
  for await (const chunk of request) {
    length += (chunk as Buffer).length;
    if (length > MAX_BODY) throw new Error('body too large');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function send(response: ServerResponse, outcome: PushOutcome): void {
  if (!outcome.body) return void response.writeHead(outcome.status).end();
  response.writeHead(outcome.status, { 'content-type': 'application/json' }).end(JSON.stringify(outcome.body));
}

export interface StreamRegistration {
  issuer: string;
  /** This resource server's audience and its secret at the broker (the ones `/introspect` takes). */
  clientId: string;
  clientSecret: string;
  /** Where the broker pushes SETs. */
  endpointUrl: string;
  description?: string;
  fetch?: typeof fetch;
}

/**
 * Creates a push stream at the broker's SSF configuration endpoint (SSF 1.0 §8.1.1.1) and returns
 * the stream configuration (`stream_id`, `events_delivered`, …).
 *
 * @example
 * ```ts
 * const { stream_id } = await registerSsfStream({ issuer, clientId: audience, clientSecret, endpointUrl });
 * ```
 */
export async function registerSsfStream(registration: StreamRegistration): Promise<Record<string, unknown> & { stream_id: string }> {
  const fetchImpl = registration.fetch ?? globalThis.fetch.bind(globalThis);
  const metadata = (await (await fetchImpl(`${registration.issuer}/.well-known/ssf-configuration`)).json()) as { configuration_endpoint: string };
  // The client secret goes only to the issuer itself, whatever the metadata names.
  const endpoint = URL.canParse(String(metadata.configuration_endpoint)) ? new URL(metadata.configuration_endpoint) : null;
  if (!endpoint || endpoint.origin !== new URL(registration.issuer).origin)
    throw new Error(`the configuration_endpoint is not under the issuer's origin ${new URL(registration.issuer).origin}: the client secret is not sent`);
  const basic = `Basic ${Buffer.from(`${formEncode(registration.clientId)}:${formEncode(registration.clientSecret)}`).toString('base64')}`;
  const response = await fetchImpl(endpoint.href, {
    method: 'POST',
    headers: { authorization: basic, 'content-type': 'application/json' },
    body: JSON.stringify({
      delivery: { method: PUSH_DELIVERY_METHOD, endpoint_url: registration.endpointUrl },
      events_requested: [SSF_EVENT.sessionRevoked],
      ...(registration.description ? { description: registration.description } : {}),
    }),
  });
  const body = (await response.json()) as Record<string, unknown> & { stream_id: string };
  if (response.status !== 201) throw new Error(`stream creation failed: HTTP ${response.status} ${JSON.stringify(body)}`);
  return body;
}

/** RFC 6749 §2.3.1: both parts are form-urlencoded before Basic encoding. */
function formEncode(value: string): string {
  return new URLSearchParams({ v: value }).toString().slice(2);
}
