import { ID_PREFIX } from '@mandate/sdk/protocol';

export type IdKind = keyof typeof ID_PREFIX;

/** Body of an id after its prefix: 22 base64url characters (128 random bits). */
const ID_BODY = /^[A-Za-z0-9_-]{22}$/;

/** PROTOCOL §1: ids are namespaced, so a human id can never be taken for an agent id. */
export function isIdOf(kind: IdKind, value: unknown): value is string {
  if (typeof value !== 'string') return false;
  const prefix = ID_PREFIX[kind];
  return value.startsWith(prefix) && ID_BODY.test(value.slice(prefix.length));
}

/** Builds an id from 16 random bytes supplied by the caller (core does no I/O). */
export function formatId(kind: IdKind, randomBase64url: string): string {
  if (!ID_BODY.test(randomBase64url)) throw new RangeError('id body must be 22 base64url characters');
  return ID_PREFIX[kind] + randomBase64url;
}

/** 12 random bytes in base64url. */
const JTI_RANDOM = /^[A-Za-z0-9_-]{16}$/;

/**
 * An access token's `jti`: the mint time in milliseconds as 12 hex digits, then 96 random bits (16
 * base64url characters), 28 characters. Unique without coordination; and in byte order a later
 * mint's `jti` sorts later, so the store's indexes keyed by `jti` (credentials, audit events) take
 * each batch's rows on their last pages instead of on random ones: about a third fewer WAL frames
 * per mint on SQLite (bench/README.md). The time it shows is the token's `iat` to the millisecond.
 *
 * @example
 * accessTokenJti(1_700_000_000_000, random.base64url(12)); // '018bcfe56800' + 16 random characters
 */
export function accessTokenJti(nowMs: number, randomBase64url: string): string {
  if (!JTI_RANDOM.test(randomBase64url)) throw new RangeError('jti randomness must be 16 base64url characters');
  if (!Number.isSafeInteger(nowMs) || nowMs < 0 || nowMs >= 16 ** 12) throw new RangeError('jti time out of range');
  return nowMs.toString(16).padStart(12, '0') + randomBase64url;
}
