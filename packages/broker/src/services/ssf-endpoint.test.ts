import assert from 'node:assert/strict';
import { test } from 'node:test';
import { addressAllowed, endpointRefusal, type EndpointPolicy, type HostResolver } from './ssf-endpoint.ts';

/** The SSRF guard of SSF push endpoints: which addresses, names and schemes the transmitter may reach. */
const strict: EndpointPolicy = { allowedHosts: [], allowLoopback: false };
const loopbackOk: EndpointPolicy = { allowedHosts: [], allowLoopback: true };
const names: Record<string, string[]> = {
  'rs.example': ['203.0.113.10', '2001:db8::10'],
  'mixed.example': ['203.0.113.10', '10.0.0.7'],
  'metadata.example': ['169.254.169.254'],
  localhost: ['127.0.0.1', '::1'],
};
const resolve: HostResolver = async (host) => {
  if (!(host in names)) throw new Error('ENOTFOUND');
  return names[host]!;
};

test('internal addresses are refused; public ones pass', () => {
  const internal = ['10.1.2.3', '172.16.0.1', '172.31.255.255', '192.168.1.1', '169.254.169.254', '100.64.0.1', '0.0.0.0', '224.0.0.1', '255.255.255.255',
    '127.0.0.1', '127.8.9.10', '::1', '::', 'fd00::1', 'fc00::1', 'fe80::1', 'ff02::1', '::ffff:10.0.0.1', '::ffff:169.254.169.254', '::ffff:7f00:1'];
  for (const address of internal) assert.equal(addressAllowed(address, strict), false, address);
  for (const address of ['203.0.113.10', '8.8.8.8', '172.32.0.1', '2001:db8::1', '2606:4700::1111']) assert.equal(addressAllowed(address, strict), true, address);
  assert.equal(addressAllowed('not-an-address', strict), false);
});

test('loopback only with allowLoopback, and never private addresses with it', () => {
  for (const address of ['127.0.0.1', '::1', '::ffff:127.0.0.1']) assert.equal(addressAllowed(address, loopbackOk), true, address);
  assert.equal(addressAllowed('10.0.0.1', loopbackOk), false);
});

test('a name is refused when any of its addresses is internal, or when it does not resolve', async () => {
  assert.equal(await endpointRefusal(new URL('https://rs.example/events'), strict, resolve), null);
  assert.match((await endpointRefusal(new URL('https://mixed.example/events'), strict, resolve))!, /internal address/);
  assert.match((await endpointRefusal(new URL('https://metadata.example/'), strict, resolve))!, /internal address/);
  assert.match((await endpointRefusal(new URL('https://nowhere.example/'), strict, resolve))!, /does not resolve/);
  assert.match((await endpointRefusal(new URL('https://[fe80::1]/'), strict, resolve))!, /internal address/);
  assert.match((await endpointRefusal(new URL('https://0x7f.1/'), strict, resolve))!, /internal address/, 'URL parsing normalises odd IPv4 forms');
});

test('http and loopback endpoints need allowLoopback; http never off loopback', async () => {
  assert.match((await endpointRefusal(new URL('http://127.0.0.1:8080/ssf'), strict, resolve))!, /internal address/);
  assert.match((await endpointRefusal(new URL('http://localhost:8080/ssf'), strict, resolve))!, /internal address/);
  assert.equal(await endpointRefusal(new URL('http://127.0.0.1:8080/ssf'), loopbackOk, resolve), null);
  assert.equal(await endpointRefusal(new URL('http://localhost:8080/ssf'), loopbackOk, resolve), null);
  assert.match((await endpointRefusal(new URL('http://rs.example/ssf'), loopbackOk, resolve))!, /http is allowed only on a loopback host/);
});

test('an allow-listed host skips the address check (case-insensitive), and nothing else does', async () => {
  const policy: EndpointPolicy = { allowedHosts: ['RS.internal.example'], allowLoopback: false };
  assert.equal(await endpointRefusal(new URL('https://rs.internal.example/ssf'), policy, resolve), null);
  assert.match((await endpointRefusal(new URL('https://other.internal.example/ssf'), policy, resolve))!, /does not resolve/);
  assert.match((await endpointRefusal(new URL('https://10.0.0.1/ssf'), policy, resolve))!, /internal address/);
});
