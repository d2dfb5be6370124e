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
