import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { CLIENT_ASSERTION_TYPE, GRANT_TYPE } from '@mandate/sdk/protocol';
import { ConfigError, loadConfig, type ConfigIssue } from '../src/config/load.ts';
import { addressKey, isTrustedProxyEntry } from '../src/http/client-ip.ts';
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
async function startServer(trustedProxies: string[]): Promise<Server> {
  const lines: string[] = [];
  const t = await startTestApp({
    config: { server: { trustedProxies }, limits: { perIpFailures: { rate: 0.001, burst: 1 }, perClient: { rate: 1000, burst: 1000 } } },
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

function configIssues(config: Record<string, unknown>): ConfigIssue[] {
  const dir = mkdtempSync(join(tmpdir(), 'mandate-proxy-config-'));
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
  try {
    loadConfig({ flags: { config: join(dir, 'config.json') }, env: {} });
  } catch (error) {
    assert.ok(error instanceof ConfigError);
    return error.issues;
  }
  return assert.fail('expected a config error');
}

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

  test('limiter keys: IPv4-mapped IPv6 is the IPv4 address, IPv6 counts by /64', () => {
    assert.equal(addressKey('::ffff:192.0.2.1'), '192.0.2.1');
    assert.equal(addressKey('192.0.2.1'), '192.0.2.1');
    assert.equal(addressKey('2001:db8::1'), '2001:db8:0:0::/64');
    assert.equal(addressKey('2001:0db8:0000:0000:ffff::1'), '2001:db8:0:0::/64');
    assert.equal(addressKey('64:ff9b::192.0.2.1'), '64:ff9b:0:0::/64');
  });
});
