import { isIP } from 'node:net';

/**
 * The client address as the per-address limiter counts it. Fastify works it out (`request.ip`):
 * the socket address, or, when the socket peer is a configured trusted proxy
 * (`server.trustedProxies`), the right-most address in `X-Forwarded-For` that is not itself a
 * trusted proxy (proxy-addr semantics). A client can prepend whatever it likes to the header;
 * only the hops our own proxies appended are believed.
 */

/** proxy-addr's named ranges, accepted in `server.trustedProxies` as well as IPs and CIDRs. */
const NAMED_RANGES = new Set(['loopback', 'linklocal', 'uniquelocal']);

/** `10.0.0.1`, `10.0.0.0/8`, `fd00::/8`, `loopback`: what `server.trustedProxies` accepts. */
export function isTrustedProxyEntry(entry: string): boolean {
  if (NAMED_RANGES.has(entry)) return true;
  const slash = entry.indexOf('/');
  if (slash === -1) return isIP(entry) !== 0;
  const version = isIP(entry.slice(0, slash));
  const prefix = entry.slice(slash + 1);
  if (version === 0 || !/^\d{1,3}$/.test(prefix)) return false;
  return Number(prefix) <= (version === 4 ? 32 : 128);
}

/**
 * The limiter key for an address: IPv4 as is (also when written IPv4-mapped, `::ffff:1.2.3.4`);
 * IPv6 by its /64 prefix, since one subscriber is routinely given a whole /64 (RFC 6177) and could
 * otherwise spread its failures over 2^64 keys.
 */
export function addressKey(ip: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped) return mapped[1]!;
  if (isIP(ip) !== 6) return ip;
  return `${expandIpv6(ip).slice(0, 4).join(':')}::/64`;
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
