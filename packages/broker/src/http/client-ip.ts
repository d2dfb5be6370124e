import { isIP } from 'node:net';

/**
 * The client address as the per-address limiter counts it. Fastify works it out (`request.ip`):
 * the socket address, or, when the socket peer is a configured trusted proxy
 * (`server.trustedProxies`), the right-most address in `X-Forwarded-For` that is not itself a
 * trusted proxy (proxy-addr semantics). A client can prepend whatever it likes to the header;
 * only the hops our own proxies appended are believed.
 */

/** The keys an address is counted under: its own (IPv4, or an IPv6 /64) and, for IPv6, its /48. */
export interface ClientAddress {
  key: string;
  /** IPv6 only: the /48 a site is routinely given (RFC 6177), counted with its own larger budget. */
  network: string | null;
}

/** Counted under one shared key when neither the request nor the socket names an IP (a Unix socket). */
export const UNKNOWN_ADDRESS = 'unknown';

/**
 * The address a request is counted under: fastify's `request.ip` when it is an IP once brackets
 * and a port are stripped (a proxy may append `:port`; a new port per connection must not be a
 * new key), else the socket peer, else `UNKNOWN_ADDRESS`. Never `undefined`.
 */
export function clientAddress(ip: string | undefined, peer: string | undefined): ClientAddress {
  const bare = bareIp(ip) ?? bareIp(peer);
  if (bare === null) return { key: UNKNOWN_ADDRESS, network: null };
  return { key: addressKey(bare), network: networkKey(bare) };
}

/** `1.2.3.4`, `1.2.3.4:5678`, `[2001:db8::1]`, `[2001:db8::1]:443` → the bare IP; anything else → null. */
export function bareIp(raw: string | undefined): string | null {
  if (raw === undefined) return null;
  const text = raw.trim();
  const bracketed = /^\[([^\]]+)\](?::\d{1,5})?$/.exec(text);
  const v4WithPort = /^(\d{1,3}(?:\.\d{1,3}){3}):\d{1,5}$/.exec(text);
  const candidate = bracketed?.[1] ?? v4WithPort?.[1] ?? text;
  return isIP(candidate) === 0 ? null : candidate;
}

/**
 * The limiter key for a bare IP: IPv4 as is (also when written IPv4-mapped, `::ffff:1.2.3.4` or
 * `::ffff:102:304`); IPv6 by its /64 prefix, since one subscriber is routinely given a whole /64
 * (RFC 6177) and could otherwise spread its failures over 2^64 keys.
 */
export function addressKey(ip: string): string {
  if (isIP(ip) !== 6) return ip;
  const groups = expandIpv6(ip);
  const mapped = mappedIpv4(groups);
  return mapped ?? `${groups.slice(0, 4).join(':')}::/64`;
}

/** The /48 of an IPv6 address (not IPv4-mapped); null for IPv4. */
export function networkKey(ip: string): string | null {
  if (isIP(ip) !== 6) return null;
  const groups = expandIpv6(ip);
  return mappedIpv4(groups) ? null : `${groups.slice(0, 3).join(':')}::/48`;
}

/** RFC 4291 §2.5.5.2: `::ffff:0:0/96` holds an IPv4 address in its last 32 bits. */
function mappedIpv4(groups: string[]): string | null {
  if (!groups.slice(0, 5).every((g) => g === '0') || groups[5] !== 'ffff') return null;
  const [hi, lo] = [Number.parseInt(groups[6]!, 16), Number.parseInt(groups[7]!, 16)];
  return [hi >> 8, hi & 255, lo >> 8, lo & 255].join('.');
}

/** The eight 16-bit groups of an IPv6 address, without leading zeros (zone id dropped). */
function expandIpv6(ip: string): string[] {
  const [head = '', tail] = ip.split('%', 1)[0]!.split('::') as [string, string | undefined];
  const groups = (part: string) => (part === '' ? [] : part.split(':').flatMap(embeddedIpv4));
  const left = groups(head);
  const right = tail === undefined ? [] : groups(tail);
  const middle = Array.from({ length: 8 - left.length - right.length }, () => '0');
  return [...left, ...middle, ...right].map((group) => Number.parseInt(group, 16).toString(16));
}

/** RFC 4291 §2.2 (3): a trailing dotted quad stands for the last two groups. */
function embeddedIpv4(group: string): string[] {
  if (!group.includes('.')) return [group];
  const [a, b, c, d] = group.split('.').map(Number) as [number, number, number, number];
  return [((a << 8) | b).toString(16), ((c << 8) | d).toString(16)];
}
