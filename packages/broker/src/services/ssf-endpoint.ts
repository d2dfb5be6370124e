import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';

/** `revocation.push.allowedHosts` / `allowLoopback`: who may receive pushes besides public addresses. */
export interface EndpointPolicy {
  allowedHosts: readonly string[];
  allowLoopback: boolean;
}

/** All addresses of a host name (A and AAAA). */
export type HostResolver = (host: string) => Promise<string[]>;

export const systemResolver: HostResolver = async (host) => (await lookup(host, { all: true, verbatim: true })).map((entry) => entry.address);

const blockList = (ranges: Array<[string, number, 'ipv4' | 'ipv6']>) => {
  const list = new BlockList();
  for (const [network, prefix, type] of ranges) list.addSubnet(network, prefix, type);
  return list;
};

/** Loopback (RFC 1122 §3.2.1.3, RFC 4291 §2.5.3); BlockList also matches IPv4-mapped IPv6 (::ffff:127.0.0.1). */
const LOOPBACK = blockList([['127.0.0.0', 8, 'ipv4'], ['::1', 128, 'ipv6']]);

/**
 * Never a resource server on the internet: unspecified and "this network", RFC 1918 private,
 * RFC 6598 shared (carrier NAT), link-local (169.254/16 holds cloud metadata services; fe80::/10),
 * IETF protocol assignments, benchmarking, multicast, reserved and broadcast, RFC 4193 unique
 * local, deprecated site-local, the IPv6 unspecified address and NAT64 local use (RFC 8215).
 */
const INTERNAL = blockList([
  ['0.0.0.0', 8, 'ipv4'], ['10.0.0.0', 8, 'ipv4'], ['100.64.0.0', 10, 'ipv4'], ['169.254.0.0', 16, 'ipv4'], ['172.16.0.0', 12, 'ipv4'],
  ['192.0.0.0', 24, 'ipv4'], ['192.168.0.0', 16, 'ipv4'], ['198.18.0.0', 15, 'ipv4'], ['224.0.0.0', 4, 'ipv4'], ['240.0.0.0', 4, 'ipv4'],
  ['::', 128, 'ipv6'], ['fc00::', 7, 'ipv6'], ['fe80::', 10, 'ipv6'], ['fec0::', 10, 'ipv6'], ['ff00::', 8, 'ipv6'], ['64:ff9b:1::', 48, 'ipv6'],
]);

const familyOf = (address: string) => (isIP(address) === 6 ? 'ipv6' : 'ipv4');
export const isLoopbackAddress = (address: string) => isIP(address) !== 0 && LOOPBACK.check(address, familyOf(address));

/** Whether the transmitter may connect to this address under the policy. */
export function addressAllowed(address: string, policy: EndpointPolicy): boolean {
  if (isIP(address) === 0) return false;
  if (isLoopbackAddress(address)) return policy.allowLoopback;
  return !INTERNAL.check(address, familyOf(address));
}

/**
 * Why the transmitter must not push to `url`, or null when it may: the host is on the operator's
 * allow-list, or it is (or every address it resolves to is) a public address, loopback only with
 * `allowLoopback`. Checked when a stream is created or changed and again before every push, since
 * a name can resolve elsewhere later (DNS rebinding).
 */
export async function endpointRefusal(url: URL, policy: EndpointPolicy, resolve: HostResolver): Promise<string | null> {
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  if (policy.allowedHosts.some((allowed) => allowed.toLowerCase() === host)) return null;
  let addresses: string[];
  try {
    addresses = isIP(host) !== 0 ? [host] : await resolve(host);
  } catch {
    return `${host} does not resolve`;
  }
  if (addresses.length === 0) return `${host} does not resolve`;
  if (!addresses.every((address) => addressAllowed(address, policy)))
    return `${host} is or resolves to a loopback, private, link-local or other internal address (see revocation.push.allowedHosts)`;
  if (url.protocol === 'http:' && !addresses.every(isLoopbackAddress)) return 'http is allowed only on a loopback host';
  return null;
}
