import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { CLIENT_ASSERTION_TYPE, GRANT_TYPE } from '@mandate/sdk/protocol';
import { loadConfig } from '../src/config/load.ts';
import { configIssues } from './support/config-issues.ts';
import { isTrustedProxyEntry } from '../src/config/trusted-proxies.ts';
import { addressKey, bareIp, clientAddress, networkKey } from '../src/http/client-ip.ts';
import { startTestApp, type TestApp } from './support/app-fixture.ts';

/**
 * The client address comes from the socket, or from X-Forwarded-For only when the socket peer is
 * a configured trusted proxy (right-most untrusted hop). Real sockets on 127.0.0.1: the per-address
 * failure limiter and the log lines see what fastify's `request.ip` says.
 */

interface Server {
  t: TestApp;
  base: string;
  lines: string[];
}

/** Per-address failure budget of 1: one failure from an address, and its next request is a 429. */
async function startServer(trustedProxies: string[], limits: Record<string, unknown> = {}): Promise<Server> {
  const lines: string[] = [];
  const t = await startTestApp({
    config: { server: { trustedProxies }, limits: { perIpFailures: { rate: 0.001, burst: 1 }, perClient: { rate: 1000, burst: 1000 }, ...limits } },
    flags: { logLevel: 'info' },
    overrides: { logDestination: { write: (line: string) => void lines.push(line) } },
  });
  await t.app.http.listen({ host: '127.0.0.1', port: 0 });
  const { port } = t.app.http.server.address() as { port: number };
  return { t, base: `http://127.0.0.1:${port}`, lines };
}

/** A token request whose client authentication fails (a counted failure): 401, or 429 once limited. */
async function badClientAuth(server: Server, forwardedFor?: string): Promise<number> {
  const body = new URLSearchParams({
    grant_type: GRANT_TYPE.clientCredentials, client_id: 'agt_AAAAAAAAAAAAAAAAAAAAAA',
    client_assertion_type: CLIENT_ASSERTION_TYPE, client_assertion: 'not.a.jwt',
  });
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded', ...(forwardedFor ? { 'x-forwarded-for': forwardedFor } : {}) };
  const response = await fetch(`${server.base}/token`, { method: 'POST', headers, body });
  await response.arrayBuffer();
  return response.status;
}

/** `remoteAddress` of the logged `request rejected` lines, in order. */
function loggedAddresses(server: Server): string[] {
  return server.lines
    .map((line) => JSON.parse(line) as { msg?: string; req?: { remoteAddress?: string } })
    .filter((record) => record.req?.remoteAddress !== undefined)
    .map((record) => record.req!.remoteAddress!);
}

describe('no trusted proxy (the default): X-Forwarded-For is ignored', () => {
  let server: Server;
  before(async () => {
    server = await startServer([]);
  });
  after(() => server.t.close());

  test('a spoofed X-Forwarded-For from an untrusted peer does not escape the per-address limit (ERR_RATE_LIMITED)', async () => {
    assert.equal(await badClientAuth(server, '203.0.113.1'), 401);
    // A new X-Forwarded-For per request would be a new key if it were believed: it is not.
    assert.equal(await badClientAuth(server, '203.0.113.2'), 429);
    assert.equal(await badClientAuth(server, '198.51.100.7, 203.0.113.3'), 429);
    assert.equal(await badClientAuth(server), 429);
  });

  test('logs name the socket address, not the forwarded one', () => {
    const addresses = loggedAddresses(server);
    assert.ok(addresses.length >= 4);
    assert.deepEqual([...new Set(addresses)], ['127.0.0.1']);
  });
});

describe('a trusted proxy: its X-Forwarded-For names the client', () => {
  let server: Server;
  before(async () => {
    server = await startServer(['127.0.0.1']);
  });
  after(() => server.t.close());

  test('failures count against the forwarded client address, and other clients behind the proxy keep their budget', async () => {
    assert.equal(await badClientAuth(server, '203.0.113.10'), 401);
    assert.equal(await badClientAuth(server, '203.0.113.10'), 429);
    assert.equal(await badClientAuth(server, '203.0.113.11'), 401);
    assert.equal(await badClientAuth(server, '203.0.113.11'), 429);
  });

  test('the right-most untrusted hop is the client: an address the client prepends itself is ignored', async () => {
    assert.equal(await badClientAuth(server, '198.51.100.1, 203.0.113.20'), 401);
    // Same right-most hop, a different prepended one: still the limited client.
    assert.equal(await badClientAuth(server, '198.51.100.2, 203.0.113.20'), 429);
  });

  test('IPv6 clients are counted by /64: another address in the same /64 is the same client', async () => {
    assert.equal(await badClientAuth(server, '2001:db8:1:2::1'), 401);
    assert.equal(await badClientAuth(server, '2001:db8:1:2:ffff::9'), 429);
    assert.equal(await badClientAuth(server, '2001:db8:1:3::1'), 401);
  });

  test('logs name the forwarded client address', () => {
    const addresses = new Set(loggedAddresses(server));
    for (const ip of ['203.0.113.10', '203.0.113.11', '203.0.113.20', '2001:db8:1:2::1']) assert.ok(addresses.has(ip), `${ip} in ${[...addresses].join(', ')}`);
    assert.ok(!addresses.has('198.51.100.1'), 'a client-prepended hop is never logged as the client');
  });
});

describe('forwarded addresses that are not bare IPs (a trusted proxy appending ports, brackets, garbage)', () => {
  let server: Server;
  before(async () => {
    server = await startServer(['127.0.0.1']);
  });
  after(() => server.t.close());

  test('an IPv4 address with a port is the address: a new port per connection is no new budget (ERR_RATE_LIMITED)', async () => {
    assert.equal(await badClientAuth(server, '203.0.113.40:5678'), 401);
    assert.equal(await badClientAuth(server, '203.0.113.40:5679'), 429);
    assert.equal(await badClientAuth(server, '203.0.113.40'), 429);
  });

  test('a bracketed IPv6 address with a port is the address, counted by its /64', async () => {
    assert.equal(await badClientAuth(server, '[2001:db8:40::1]:443'), 401);
    assert.equal(await badClientAuth(server, '[2001:db8:40::2]:444'), 429);
    assert.equal(await badClientAuth(server, '2001:db8:40::3'), 429);
  });

  test('a hex-form IPv4-mapped address is the IPv4 address, not the ::/64 every mapped address shares', async () => {
    assert.equal(await badClientAuth(server, '::ffff:cb00:712a'), 401); // 203.0.113.42
    assert.equal(await badClientAuth(server, '203.0.113.42'), 429);
    assert.equal(await badClientAuth(server, '::ffff:cb00:712b'), 401); // 203.0.113.43: its own budget
  });

  test('a forwarded value that is no IP falls back to the socket peer (the proxy), never a key of its own', async () => {
    assert.equal(await badClientAuth(server, 'unknown'), 401);
    assert.equal(await badClientAuth(server, 'garbage-1'), 429);
    assert.equal(await badClientAuth(server, '_hidden'), 429);
    // The socket peer is the proxy: a request it sends for itself shares that budget.
    assert.equal(await badClientAuth(server), 429);
  });
});

describe('IPv6 /48: a site spreading failures over its /64s meets a budget of its own', () => {
  let server: Server;
  before(async () => {
    server = await startServer(['127.0.0.1'], { perIpv6NetworkFailures: { rate: 0.001, burst: 2 } });
  });
  after(() => server.t.close());

  test('failures from distinct /64s of one /48 spend the /48 budget; another /48 keeps its own (ERR_RATE_LIMITED)', async () => {
    assert.equal(await badClientAuth(server, '2001:db8:5:1::1'), 401);
    assert.equal(await badClientAuth(server, '2001:db8:5:2::1'), 401);
    assert.equal(await badClientAuth(server, '2001:db8:5:3::1'), 429);
    assert.equal(await badClientAuth(server, '2001:db8:5:ffff::1'), 429);
    assert.equal(await badClientAuth(server, '2001:db8:6:1::1'), 401);
    // IPv4 has no /48: it is not affected.
    assert.equal(await badClientAuth(server, '203.0.113.50'), 401);
  });
});

describe('a chain of trusted proxies (a named range and a CIDR)', () => {
  let server: Server;
  before(async () => {
    server = await startServer(['loopback', '10.0.0.0/8']);
  });
  after(() => server.t.close());

  test('hops inside a trusted CIDR are skipped: the client is the first untrusted address from the right', async () => {
    assert.equal(await badClientAuth(server, '203.0.113.30, 10.1.2.3'), 401);
    assert.equal(await badClientAuth(server, '203.0.113.30, 10.9.9.9'), 429);
    assert.ok(loggedAddresses(server).includes('203.0.113.30'));
  });
});

describe('server.trustedProxies config', () => {
  test('a bad CIDR fails at start with the dotted path of the entry', () => {
    for (const bad of ['10.0.0.0/33', '10.0.0/8', 'fd00::/129', 'proxy.example.com', '10.0.0.1/']) {
      const issues = configIssues({ server: { trustedProxies: ['127.0.0.1', bad] } });
      assert.deepEqual(issues.map((i) => i.path), ['server.trustedProxies.1'], bad);
      assert.match(issues[0]!.message, /expected an IP address, a CIDR/);
    }
  });

  test('IPs, CIDRs and proxy-addr names are accepted', () => {
    for (const good of ['10.0.0.1', '10.0.0.0/8', 'fd00::/8', '::1', 'loopback', 'linklocal', 'uniquelocal']) assert.ok(isTrustedProxyEntry(good), good);
    const config = loadConfig({ flags: {}, env: {} });
    assert.deepEqual(config.server.trustedProxies, []);
  });
});

describe('limiter keys, one per case', () => {
  test('a bare IPv4 address is its own key', () => assert.deepEqual(clientAddress('192.0.2.1', '127.0.0.1'), { key: '192.0.2.1', network: null }));
  test('IPv4 with a port: the port is stripped', () => assert.deepEqual(clientAddress('192.0.2.1:5678', '127.0.0.1'), { key: '192.0.2.1', network: null }));
  test('bracketed IPv6 with a port: brackets and port are stripped', () => assert.deepEqual(clientAddress('[2001:db8::1]:443', '127.0.0.1'), { key: '2001:db8:0:0::/64', network: '2001:db8:0::/48' }));
  test('bracketed IPv6 without a port', () => assert.equal(bareIp('[2001:db8::1]'), '2001:db8::1'));
  test('dotted IPv4-mapped IPv6 is the IPv4 address', () => assert.deepEqual(clientAddress('::ffff:192.0.2.1', undefined), { key: '192.0.2.1', network: null }));
  test('hex-form IPv4-mapped IPv6 is the IPv4 address', () => {
    assert.equal(addressKey('::ffff:102:304'), '1.2.3.4');
    assert.equal(addressKey('0:0:0:0:0:ffff:c000:201'), '192.0.2.1');
    assert.equal(networkKey('::ffff:102:304'), null);
  });
  test('IPv6 counts by /64 and by /48', () => {
    assert.equal(addressKey('2001:0db8:0000:0000:ffff::1'), '2001:db8:0:0::/64');
    assert.equal(addressKey('64:ff9b::192.0.2.1'), '64:ff9b:0:0::/64');
    assert.equal(networkKey('2001:db8:1:2::1'), '2001:db8:1::/48');
    assert.equal(networkKey('2001:db8:1:ffff::9'), '2001:db8:1::/48');
  });
  test('not an IP: the socket peer is used', () => assert.deepEqual(clientAddress('unknown', '198.51.100.9'), { key: '198.51.100.9', network: null }));
  test('a missing request.ip: the socket peer is used', () => assert.deepEqual(clientAddress(undefined, '::ffff:198.51.100.9'), { key: '198.51.100.9', network: null }));
  test('neither is an IP (a Unix socket): one shared key, never "undefined"', () => {
    assert.deepEqual(clientAddress(undefined, undefined), { key: 'unknown', network: null });
    assert.deepEqual(clientAddress('', 'x'), { key: 'unknown', network: null });
  });
  test('a port on something that is no IP does not make it one', () => {
    for (const bad of ['host.example:80', '[not-ip]:1', '1.2.3.4:', '1.2.3.4:99999999']) assert.equal(bareIp(bad), null, bad);
  });
});

describe('the shared-address warning at start', () => {
  async function warnings(config: Record<string, unknown>): Promise<string[]> {
    const lines: string[] = [];
    const t = await startTestApp({ config: { limits: { enabled: true }, ...config }, flags: { logLevel: 'info' }, overrides: { logDestination: { write: (line: string) => void lines.push(line) } } });
    await t.close();
    return lines.map((line) => JSON.parse(line) as { level: number; msg: string }).filter((r) => r.level === 40 && /server\.trustedProxies/.test(r.msg)).map((r) => r.msg);
  }

  test('an https issuer with no trusted proxy warns once that every client shares the proxy address budget', async () => {
    const found = await warnings({ issuer: 'https://broker.example' });
    assert.equal(found.length, 1);
    assert.match(found[0]!, /every client shares the proxy's address failure budget/);
  });

  test('no warning with a trusted proxy, with an http issuer, or with the limits off', async () => {
    assert.deepEqual(await warnings({ issuer: 'https://broker.example', server: { trustedProxies: ['10.0.0.0/8'] } }), []);
    assert.deepEqual(await warnings({}), []);
    assert.deepEqual(await warnings({ issuer: 'https://broker.example', limits: { enabled: false } }), []);
  });
});
