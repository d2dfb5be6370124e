// Guard options, the RFC 9728 metadata URL and mandateOf.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigurationError } from '../errors.ts';
import type { Verifier } from '../resource/verifier.ts';
import { createMcpGuard } from './guard.ts';
import { mandateOf } from './mandate-of.ts';
import { resourceMetadataUrl, withResourceMetadata } from './metadata.ts';
import type { McpGuardOptions } from './options.ts';

const verifier: Verifier = { audience: 'https://mcp.example.com/mcp', verifyRequest: async () => ({}) as never, nonce: async () => 'n' };
const base: McpGuardOptions = { verifier, authorizationServers: ['http://localhost:7420'], tools: { read_items: 'read' } };

test('resourceMetadataUrl inserts the well-known path between host and path (RFC 9728 §3.1)', () => {
  assert.equal(resourceMetadataUrl('https://mcp.example.com/mcp'), 'https://mcp.example.com/.well-known/oauth-protected-resource/mcp');
  assert.equal(resourceMetadataUrl('https://mcp.example.com'), 'https://mcp.example.com/.well-known/oauth-protected-resource');
  assert.equal(resourceMetadataUrl('https://mcp.example.com/'), 'https://mcp.example.com/.well-known/oauth-protected-resource');
  assert.equal(resourceMetadataUrl('https://MCP.example.com:443/a/b?t=1'), 'https://mcp.example.com/.well-known/oauth-protected-resource/a/b?t=1');
  assert.throws(() => resourceMetadataUrl('urn:example:mcp'), ConfigurationError);
});

test('withResourceMetadata appends a quoted resource_metadata parameter', () => {
  assert.equal(withResourceMetadata('DPoP algs="ES256"', 'https://x.example/.well-known/oauth-protected-resource/a"b'),
    'DPoP algs="ES256", resource_metadata="https://x.example/.well-known/oauth-protected-resource/a%22b"');
});

test('the guard publishes its metadata URL and document; a URN audience needs resourceMetadataUrl', () => {
  const guard = createMcpGuard({ ...base, metadata: { resource_name: 'Items' } });
  assert.equal(guard.resourceMetadataUrl, 'https://mcp.example.com/.well-known/oauth-protected-resource/mcp');
  assert.equal(guard.metadata.resource, 'https://mcp.example.com/mcp');
  assert.equal(guard.metadata.resource_name, 'Items');
  const urn = { ...base, verifier: { ...verifier, audience: 'urn:items' } };
  assert.throws(() => createMcpGuard(urn), ConfigurationError);
  assert.equal(createMcpGuard({ ...urn, resourceMetadataUrl: 'https://items.example/.well-known/oauth-protected-resource' }).metadata.resource, 'urn:items');
});

test('malformed options are refused with a message naming them', () => {
  const refused = (options: Partial<McpGuardOptions>, message: RegExp) =>
    assert.throws(() => createMcpGuard({ ...base, ...options } as McpGuardOptions), (e: unknown) => e instanceof ConfigurationError && message.test(e.message));
  refused({ verifier: {} as Verifier }, /^verifier/);
  refused({ authorizationServers: [] }, /^authorizationServers/);
  refused({ tools: { read_items: '' } }, /^tools\.read_items/);
  refused({ tools: { read_items: { action: 'has space' } } }, /^tools\.read_items/);
  refused({ methods: { 'resources/read': '' } }, /^methods\.resources\/read/);
  refused({ path: 'mcp' }, /^path/);
  refused({ maxBodyBytes: 0 }, /^maxBodyBytes/);
  refused({ resourceMetadataUrl: 'ftp://x' }, /^resourceMetadataUrl/);
});

test('mandateOf reads the verified request the guard attached, and nothing else', () => {
  const mandate = { agentId: 'agt_1', subject: 'usr_1', task: { actions: ['read'] } };
  assert.equal(mandateOf({ extra: { mandate } }), mandate);
  assert.equal(mandateOf(undefined), undefined);
  assert.equal(mandateOf({ extra: { mandate: { agentId: 1 } } }), undefined);
});
