/**
 * Token Status List (draft-ietf-oauth-status-list) for Mandate access tokens: the list codec the
 * broker and the verifier share, and the verifier's check. Each access token carries
 * `status.status_list {idx, uri}`; the list at `uri` is a signed JWT (`typ: statuslist+jwt`) whose
 * `status_list.lst` is base64url(ZLIB(bytes)), one bit per token (`bits: 1`), least significant
 * bit first (§4.1). A set bit means revoked.
 *
 * @example
 * ```ts
 * import { createStatusListChecker } from '@mandate/sdk/status-list';
 * const statusList = createStatusListChecker({ issuer: 'http://localhost:7420', jwks: 'http://localhost:7420/jwks' });
 * await statusList.check(claims); // throws VerifierError ERR_TOKEN_REVOKED when the bit is set
 * ```
 *
 * @module
 */
import { deflateSync, inflateSync } from 'node:zlib';
import type { JSONWebKeySet } from 'jose';
import { completeJws, parseJwsHeader, signatureVerifies, type ParsedJws } from './jws/index.ts';
import { JWT_TYP } from './protocol/index.ts';
import { VerifierError } from './resource/errors.ts';
import { createKeySource, type KeySource } from './resource/keys.ts';

/** §5.1 / §14: the media type of a Status List Token in JWT format. */
export const STATUS_LIST_MEDIA_TYPE = 'application/statuslist+jwt';
/** Largest decompressed list accepted (a zip bomb stops here): 8 Mi statuses. */
const MAX_LIST_BYTES = 1 << 20;

/** §4.1 with `bits: 1`: base64url(ZLIB(bytes)) with the bits at `revoked` set. */
export function encodeStatusList(revoked: Iterable<number>, size: number): string {
  const bytes = new Uint8Array(Math.ceil(size / 8));
  for (const idx of revoked) {
    if (!Number.isInteger(idx) || idx < 0 || idx >= size) throw new RangeError(`index ${idx} is outside the list`);
    bytes[idx >> 3]! |= 1 << (idx & 7);
  }
  return deflateSync(bytes, { level: 9 }).toString('base64url');
}

/** Inverse of `encodeStatusList`; throws on anything that is not a bounded ZLIB stream. */
export function decodeStatusList(lst: string): Uint8Array {
  if (!/^[A-Za-z0-9_-]+$/.test(lst)) throw new TypeError('lst is not base64url');
  return new Uint8Array(inflateSync(Buffer.from(lst, 'base64url'), { maxOutputLength: MAX_LIST_BYTES }));
}

/** The status bit of `idx` (0 when beyond the list: never issued there, so never revoked there). */
export function statusBit(bytes: Uint8Array, idx: number): 0 | 1 {
  const byte = bytes[idx >> 3];
  return byte === undefined ? 0 : (((byte >> (idx & 7)) & 1) as 0 | 1);
}

/**
 * Options of `createStatusListChecker` and of the verifier's `statusList` option.
 *
 * @example
 * ```ts
 * const options: StatusListOptions = { maxCacheSeconds: 10 };
 * ```
 */
export interface StatusListOptions {
  /** Cache a list for at most this long, even if its `ttl` and `max-age` allow longer. Default: the list's own bound. */
  maxCacheSeconds?: number;
  /** Refuse tokens that carry no `status.status_list` claim. Default true. */
  required?: boolean;
  /**
   * In the last fraction of a list's lifetime, a check still uses the cached list but starts one
   * background fetch, so the next list is in place before the old one expires: checks do not wait
   * on the fetch, and what a check sees is never older than the list's bound. Default 0.2; 0 turns it off.
   */
  refreshAheadFraction?: number;
}

export interface StatusListCheckerOptions extends StatusListOptions {
  issuer: string;
  jwks: string | URL | JSONWebKeySet;
  fetch?: typeof fetch;
  /** Epoch milliseconds; defaults to `Date.now`. */
  now?: () => number;
  /** Leeway for the list's `exp`. Default 30. */
  clockSkewSeconds?: number;
}

/** Checks one token's status bit; lists are fetched once per cache lifetime and shared by tokens. */
export interface StatusListChecker {
  check(claims: object & { status?: unknown }): Promise<void>;
}

interface CachedList {
  bytes: Uint8Array;
  /** When the list stops being usable, counted from when its fetch was sent (RFC 9111 §4.2.3 request_time). */
  until: number;
  /** From here on, a check starts a background refresh. */
  refreshFrom: number;
}

/** For a verifier that already holds the issuer's key source. */
export function createStatusListCheck(options: Omit<StatusListCheckerOptions, 'jwks'> & { keys: KeySource }): StatusListChecker {
  const fetchImpl = options.fetch ?? globalThis.fetch.bind(globalThis);
  const now = options.now ?? Date.now;
  const skew = options.clockSkewSeconds ?? 30;
  const prefix = `${options.issuer}/`;
  const cache = new Map<string, CachedList>();
  const pending = new Map<string, Promise<CachedList>>();

  const aheadFraction = Math.min(Math.max(options.refreshAheadFraction ?? 0.2, 0), 0.9);

  const load = async (uri: string): Promise<CachedList> => {
    const requested = now();
    const response = await fetchImpl(uri, { headers: { accept: STATUS_LIST_MEDIA_TYPE }, redirect: 'error' }).catch((error: unknown) => unavailable('the status list is unreachable', error));
    if (!response.ok) unavailable(`the status list answered HTTP ${response.status}`);
    const jwt = await response.text();
    const { bytes, ttl } = await verifyList(jwt, uri, options.keys, options.issuer, Math.floor(now() / 1000), skew);
    const bounds = [ttl, maxAgeOf(response.headers.get('cache-control')), options.maxCacheSeconds].filter((v): v is number => v !== undefined);
    const lifetime = Math.min(...bounds, 300) * 1000;
    const entry = { bytes, until: requested + lifetime, refreshFrom: requested + lifetime * (1 - aheadFraction) };
    cache.set(uri, entry);
    return entry;
  };

  const fetchOnce = (uri: string): Promise<CachedList> => {
    let inflight = pending.get(uri);
    if (!inflight) {
      inflight = load(uri).finally(() => pending.delete(uri));
      pending.set(uri, inflight);
    }
    return inflight;
  };

  const listAt = (uri: string): Promise<CachedList> | CachedList => {
    const cached = cache.get(uri);
    const at = now();
    if (!cached || at >= cached.until) return fetchOnce(uri);
    // A failed background refresh is not this check's failure: the cached list is still within its
    // bound. It is not retried before expiry either, so an unreachable server is not polled by every check.
    if (aheadFraction > 0 && at >= cached.refreshFrom && !pending.has(uri))
      fetchOnce(uri).catch(() => {
        cached.refreshFrom = cached.until;
      });
    return cached;
  };

  return {
    async check(claims) {
      const reference = ((claims as { status?: unknown }).status as { status_list?: { idx?: unknown; uri?: unknown } } | undefined)?.status_list;
      if (reference === undefined) {
        if (options.required === false) return;
        throw new VerifierError('ERR_TOKEN_CLAIMS', 'the access token carries no status list reference');
      }
      const { idx, uri } = reference;
      // Only the issuer's own lists are fetched: the URI comes from the token, which an attacker may have minted elsewhere.
      if (!Number.isSafeInteger(idx) || (idx as number) < 0 || typeof uri !== 'string' || !uri.startsWith(prefix))
        throw new VerifierError('ERR_TOKEN_CLAIMS', 'the access token status list reference is invalid');
      if (statusBit((await listAt(uri)).bytes, idx as number) === 1) throw new VerifierError('ERR_TOKEN_REVOKED', 'the access token was revoked (status list)');
    },
  };
}

/**
 * The check on its own, for a resource server that verifies tokens itself.
 *
 * @example
 * ```ts
 * const checker = createStatusListChecker({ issuer, jwks: `${issuer}/jwks`, maxCacheSeconds: 5 });
 * ```
 */
export function createStatusListChecker(options: StatusListCheckerOptions): StatusListChecker {
  return createStatusListCheck({ ...options, keys: createKeySource(options.jwks, options.fetch) });
}

/** §5.1 / §8.3: typ, alg allow-list, signature, `iss`, `sub` == the URI fetched, `exp`, `bits: 1`. */
async function verifyList(jwt: string, uri: string, keys: KeySource, issuer: string, nowSeconds: number, skew: number) {
  let jws: ParsedJws;
  try {
    const head = parseJwsHeader(jwt);
    if (head.header.typ !== JWT_TYP.statusList) throw new TypeError(`typ must be ${JWT_TYP.statusList}`);
    jws = completeJws(head);
  } catch (error) {
    return unavailable('the status list is not a valid status list token', error);
  }
  const kid = typeof jws.header.kid === 'string' ? jws.header.kid : undefined;
  const candidates = await (async () => keys.keysFor(jws.alg, kid))().catch((error: unknown) => unavailable('no issuer key matches the status list', error));
  if (!candidates.some((key) => signatureVerifies(jws, key))) unavailable('the status list signature is invalid');
  const { iss, sub, exp, ttl, status_list: list } = jws.payload as Record<string, unknown>;
  if (iss !== issuer || sub !== uri) unavailable('the status list is for another issuer or URI');
  if (exp !== undefined && (typeof exp !== 'number' || exp <= nowSeconds - skew)) unavailable('the status list has expired');
  const { bits, lst } = (list ?? {}) as { bits?: unknown; lst?: unknown };
  if (bits !== 1 || typeof lst !== 'string') unavailable('the status list must have bits 1 and an lst');
  let bytes: Uint8Array;
  try {
    bytes = decodeStatusList(lst as string);
  } catch (error) {
    return unavailable('the status list lst cannot be decoded', error);
  }
  return { bytes, ttl: typeof ttl === 'number' && ttl >= 0 ? ttl : undefined };
}

function maxAgeOf(header: string | null): number | undefined {
  const match = header ? /(?:^|,)\s*max-age=(\d+)/i.exec(header) : null;
  return match ? Number(match[1]) : undefined;
}

/** Fails closed: a verifier that cannot read the list cannot tell a revoked token from a good one. */
function unavailable(message: string, cause?: unknown): never {
  throw new VerifierError('ERR_STATUS_LIST_UNAVAILABLE', message, { cause });
}
