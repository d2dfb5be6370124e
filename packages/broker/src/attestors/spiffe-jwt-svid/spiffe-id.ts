/** A SPIFFE ID split into its parts (SPIFFE-ID §2). */
export interface SpiffeId {
  id: string;
  trustDomain: string;
  /** `''` for the trust domain's own ID, else `/seg/seg…`. */
  path: string;
}

/** Why a string is not a SPIFFE ID: reported as `details.reason` of `ERR_SPIFFE_JWT_SVID_SUBJECT`. */
export type SpiffeIdFlaw =
  | 'type'
  | 'length'
  | 'scheme'
  | 'query'
  | 'fragment'
  | 'userinfo'
  | 'port'
  | 'trust-domain'
  | 'empty-segment'
  | 'dot-segment'
  | 'path-characters';

/** SPIFFE-ID §2.1: lowercase letters, digits, `.`, `-`, `_`; at most 255 bytes. */
export const TRUST_DOMAIN_NAME = /^[a-z0-9._-]{1,255}$/;
/** SPIFFE-ID §2.2: path segments use letters, digits, `.`, `-`, `_`; no percent-encoding. */
const SEGMENT = /^[A-Za-z0-9._-]+$/;
/** SPIFFE-ID §2.3: at most 2048 bytes. */
const MAX_ID_BYTES = 2048;
/** SPIFFE-ID §2: the scheme is `spiffe`, spelled in lowercase. */
const SCHEME = 'spiffe://';

/**
 * Parses a SPIFFE ID strictly (as go-spiffe does): no query, fragment, port or userinfo, and
 * path segments neither empty nor `.`/`..`.
 *
 * @example
 * parseSpiffeId('spiffe://prod.acme.internal/ns/agents/sa/triage');
 * // { id, trustDomain: 'prod.acme.internal', path: '/ns/agents/sa/triage' }
 * parseSpiffeId('spiffe://prod.acme.internal:443/x'); // { flaw: 'port' }
 */
export function parseSpiffeId(value: unknown): SpiffeId | { flaw: SpiffeIdFlaw } {
  if (typeof value !== 'string') return { flaw: 'type' };
  if (Buffer.byteLength(value, 'utf8') > MAX_ID_BYTES) return { flaw: 'length' };
  if (!value.startsWith(SCHEME)) return { flaw: 'scheme' };
  const rest = value.slice(SCHEME.length);
  if (rest.includes('?')) return { flaw: 'query' };
  if (rest.includes('#')) return { flaw: 'fragment' };
  const slash = rest.indexOf('/');
  const trustDomain = slash < 0 ? rest : rest.slice(0, slash);
  const path = slash < 0 ? '' : rest.slice(slash);
  const flaw = findAuthorityFlaw(trustDomain) ?? (path === '' ? null : findPathFlaw(path));
  return flaw === null ? { id: value, trustDomain, path } : { flaw };
}

/**
 * The flaw of a SPIFFE ID path (`/seg/seg…`), or null when it is valid.
 *
 * @example
 * findPathFlaw('/ns/prod/sa/agent'); // null
 * findPathFlaw('/ns//agent'); // 'empty-segment'
 */
export function findPathFlaw(path: string): SpiffeIdFlaw | null {
  if (!path.startsWith('/')) return 'empty-segment';
  for (const segment of path.slice(1).split('/')) {
    if (segment === '') return 'empty-segment';
    if (segment === '.' || segment === '..') return 'dot-segment';
    if (!SEGMENT.test(segment)) return 'path-characters';
  }
  return null;
}

function findAuthorityFlaw(authority: string): SpiffeIdFlaw | null {
  if (authority.includes('@')) return 'userinfo';
  if (authority.includes(':')) return 'port';
  return TRUST_DOMAIN_NAME.test(authority) ? null : 'trust-domain';
}
