import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { decodeJwt } from 'jose';
import { createAgentClient, OAuthResponseError } from '@mandate/sdk';
import { askForTools, callItemTool, connectAsSubAgent, connectToItems, handToSubAgent, type ItemTool } from '../../../examples/mcp/agent.ts';
import { approvePending, revokeMandate } from '../../../examples/mcp/approver.ts';
import { createAgentKey, registerAgent } from '../../../examples/mcp/operator.ts';
import { startItemsServer } from '../../../examples/mcp/server.ts';
import { API, SECRETS, startLoopFixture, type LoopFixture } from './support/loop-fixture.ts';

/**
 * examples/mcp end to end: the real broker on loopback (the loop fixture: local OpenID issuer,
 * code-digest, alice as approver), the example MCP server (McpServer over Streamable HTTP, guarded
 * by @mandate/sdk/mcp) and the example agent (MCP client with createMcpFetch). The agent asks for
 * a mandate covering one tool, alice approves through the admin API, the agent calls that tool,
 * is refused the other, and is cut off when alice revokes the mandate. Then the sub-agent hop: a
 * second agent, registered through the admin API, redeems a narrowed sub-grant and is held to it.
 */

let fx: LoopFixture;
let items: Awaited<ReturnType<typeof startItemsServer>>;
before(async () => {
  fx = await startLoopFixture();
  items = await startItemsServer({ issuer: fx.issuer, audience: API, introspectionSecret: SECRETS[API]!, now: fx.clock.now });
});
after(async () => {
  await items?.close();
  await fx?.close();
});

/** The example's steps 1–2: ask for `tools`, alice approves (admin API), wait, connect. */
async function approvedClient(tools: ItemTool[]) {
  const agent = fx.agent.client();
  const authReqId = await askForTools(agent, { approver: fx.alice.id, audience: API, tools, purpose: 'Tidy the items', notAfter: new Date(fx.clock.now() + 3600_000) });
  const mandateId = await approvePending(fx.issuer, fx.secrets.alice, fx.agent.agent.id);
  await agent.waitForApproval(authReqId, { interval: 0.05, timeoutMs: 10_000 });
  return { agent, mandateId, client: await connectToItems(agent, { url: items.url, audience: API }) };
}

test('a mandate for read_items: the agent reads, is refused delete_item, and is cut off when the mandate is revoked', async () => {
  const { client, mandateId } = await approvedClient(['read_items']);
  assert.deepEqual((await client.listTools()).tools.map((tool) => tool.name), ['read_items'], 'only the tools the mandate allows are listed');

  const read = await callItemTool(client, 'read_items');
  assert.deepEqual(read, { items: { 1: 'first item', 2: 'second item' }, readBy: fx.agent.agent.id, actingFor: fx.alice.id, delegatedBy: [] });

  await assert.rejects(callItemTool(client, 'delete_item', { id: '1' }), (error: unknown) => {
    assert.ok(error instanceof StreamableHTTPError, String(error));
    assert.equal(error.code, 403);
    assert.match(error.message, /tool delete_item: the task does not allow write/);
    return true;
  });
  assert.equal(items.items.size, 2, 'nothing was deleted');

  await revokeMandate(fx.issuer, fx.secrets.alice, mandateId, 'task done');
  fx.clock.advance(6_000); // past the server's 5 s revocation bound (introspection cache)
  await assert.rejects(callItemTool(client, 'read_items'), (error: unknown) => {
    // The server refused the token; the agent's renewal was refused by the broker, which says why.
    assert.ok(error instanceof OAuthResponseError, String(error));
    assert.equal(error.mandateError, 'mandate_revoked');
    return true;
  });
  await client.close();
});

test('a mandate for both tools: delete_item works, on the datatype its rule names', async () => {
  const { client, agent } = await approvedClient(['read_items', 'delete_item']);
  assert.deepEqual((await agent.getToken(API)).authorizationDetails[0]?.datatypes, ['items']);
  assert.deepEqual((await client.listTools()).tools.map((tool) => tool.name).sort(), ['delete_item', 'read_items']);
  assert.deepEqual(await callItemTool(client, 'delete_item', { id: '2' }), { deleted: true, id: '2', by: fx.agent.agent.id });
  assert.deepEqual(Object.keys((await callItemTool(client, 'read_items')).items as object), ['1']);
  await client.close();
});

test('without a token the server answers 401 with a DPoP challenge pointing to its RFC 9728 metadata', async () => {
  const refused = await fetch(items.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"jsonrpc":"2.0","id":1,"method":"tools/list"}' });
  assert.equal(refused.status, 401);
  assert.equal(refused.headers.get('www-authenticate'), `DPoP algs="ES256 EdDSA", resource_metadata="${items.guard.resourceMetadataUrl}"`);
  const metadata = (await (await fetch(new URL(new URL(items.guard.resourceMetadataUrl).pathname, items.url))).json()) as Record<string, unknown>;
  assert.equal(metadata.resource, API);
  assert.deepEqual(metadata.authorization_servers, [fx.issuer]);
  assert.equal(metadata.resource_name, 'Items (MCP)');
});

test('hands a narrowed token to a sub-agent, which is held to the narrowed task', async () => {
  const { agent: parent, client: parentClient, mandateId } = await approvedClient(['read_items']);
  await parentClient.close();
  // The operator registers the sub-agent (admin API): its own client key, owner and attestation policy.
  const { privateKey, publicJwk } = await createAgentKey();
  const childId = await registerAgent(fx.issuer, fx.secrets.admin, { name: 'items-reader', owners: [fx.alice.id], policy: 'default', publicJwk });
  const subAgent = createAgentClient({ issuer: fx.issuer, clientId: childId, clientKey: privateKey, evidence: fx.evidence, clock: fx.clock });

  await assert.rejects(handToSubAgent(parent, { child: childId, audience: API, tools: ['read_items', 'delete_item'] }), (error: unknown) => {
    assert.ok(error instanceof OAuthResponseError, String(error));
    assert.equal(error.mandateError, 'sub_grant_widening_actions', 'write is not the parent\'s to pass on');
    return true;
  });

  // Narrower than the parent's mandate: ten minutes instead of an hour, at most two tokens (the redemption's is the first).
  const notAfter = new Date(fx.clock.now() + 600_000);
  const subGrant = await handToSubAgent(parent, { child: childId, audience: API, tools: ['read_items'], notAfter, maxUses: 2 });
  assert.deepEqual(subGrant.authorizationDetails[0]?.constraints, { notAfter: Math.floor(notAfter.getTime() / 1000), maxUses: 2 });
  const client = await connectAsSubAgent(subAgent, subGrant, { url: items.url });
  const held = items.items.size;
  const bound = (token: string) => (decodeJwt(token).cnf as { jkt: string }).jkt;
  assert.equal(bound((await subAgent.getToken(API)).accessToken), await subAgent.jkt(), 'the sub-agent\'s token is bound to its own DPoP key');
  assert.notEqual(await subAgent.jkt(), await parent.jkt());
  assert.deepEqual((await client.listTools()).tools.map((tool) => tool.name), ['read_items']);

  // The tool handler sees the chain: the sub-agent, acting for the parent, for alice.
  const { items: listed, ...who } = await callItemTool(client, 'read_items');
  assert.deepEqual(listed, Object.fromEntries(items.items));
  assert.deepEqual(who, { readBy: childId, actingFor: fx.alice.id, delegatedBy: [fx.agent.agent.id] });
  await assert.rejects(callItemTool(client, 'delete_item', { id: '1' }), (error: unknown) => {
    assert.ok(error instanceof StreamableHTTPError, String(error));
    assert.equal(error.code, 403);
    assert.match(error.message, /tool delete_item: the task does not allow write/);
    return true;
  });

  await revokeMandate(fx.issuer, fx.secrets.alice, mandateId, 'task done');
  fx.clock.advance(6_000); // past the server's revocation bound: the parent's revocation reaches the sub-agent's token
  await assert.rejects(callItemTool(client, 'read_items'), (error: unknown) => {
    assert.ok(error instanceof OAuthResponseError, String(error));
    assert.equal(error.mandateError, 'mandate_revoked', 'the sub-agent\'s own mandate ended with its parent');
    return true;
  });
  assert.equal(items.items.size, held, 'nothing was deleted');
  await client.close();
});
