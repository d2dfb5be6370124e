import assert from 'node:assert/strict';
import { test } from 'node:test';
import { OAuthResponseError } from '@mandate/sdk';
import { GRANT_TYPE, TOKEN_TYPE } from '@mandate/sdk/protocol';
import { API, assertOAuthError, clientAuth, generateDpopKey, type LoopFixture } from './loop-fixture.ts';

/**
 * Active agents and mandates held in memory for `POST /token` (docs/deployment.md), on whichever
 * store the fixture runs: a change the feed never announced is refused by the token's commit, and
 * a change on the feed empties the copies.
 */

/** A new agent of alice's with an approved mandate at API and one token minted under it (so both rows are held in memory). */
async function agentWithMintedMandate(fx: LoopFixture, maxUses?: number) {
  const agent = await fx.addAgent();
  const key = await generateDpopKey();
  const client = agent.client({ dpopKey: key.pair });
  const notAfter = new Date(fx.clock.now() + 3_600_000);
  const task = { purpose: 'Read the items', audience: API, actions: ['read'], notAfter, ...(maxUses ? { maxUses } : {}) };
  const { authReqId } = await client.ask({ loginHint: fx.alice.id, bindingMessage: 'Read the items', task });
  const mandateId = await fx.pendingMandateOf(agent.agent.id);
  assert.equal((await fx.adminApi('POST', `/admin/v1/mandates/${mandateId}/approve`, fx.secrets.alice)).status, 200);
  const { grant } = await client.waitForApproval(authReqId, { interval: 0.05, timeoutMs: 10_000 });
  await client.mint({ resource: API });
  /** The grant's token exchange with an attestation result obtained now (the SDK's `mint` attests first, and `/attest` reads the store). */
  const exchanger = async () => {
    const actorToken = (await client.attest()).attestation;
    return async () => fx.post('/token', {
      ...(await clientAuth(agent)), grant_type: GRANT_TYPE.tokenExchange, subject_token: grant, subject_token_type: TOKEN_TYPE.refreshToken,
      actor_token: actorToken, actor_token_type: TOKEN_TYPE.jwt, resource: API,
    }, { dpop: await fx.proof(key, '/token') });
  };
  return { agent, client, mandateId, exchanger };
}

/** `mandate_cache_entries{cache}` as /metrics shows it. */
async function cached(fx: LoopFixture, cache: 'agents' | 'mandates'): Promise<number> {
  const line = (await fx.app.metrics.render()).split('\n').find((l) => l.startsWith(`mandate_cache_entries{cache="${cache}"}`));
  return Number(line?.split(' ').pop());
}

const refusal = (check: (error: OAuthResponseError) => void) => (error: unknown) => {
  assert.ok(error instanceof OAuthResponseError, String(error));
  check(error);
  return true;
};

/** Registers the tests against the fixture `fixture()` returns once its `before` has run. */
export function hotReadTests(fixture: () => LoopFixture): void {
  test('active agents and mandates held in memory: a change the feed never announced is still refused by the token\'s commit, which empties the copies and gives the use back', async () => {
    const fx = fixture();
    const { agent, mandateId, exchanger } = await agentWithMintedMandate(fx, 4); // the CIBA token and one mint: 2 uses left
    const exchange = await exchanger();
    const tokens = async () => (await fx.app.store.credentials.listByMandate(mandateId)).length;
    const both = async () => [await cached(fx, 'agents'), await cached(fx, 'mandates')];
    const before = await tokens();
    assert.ok((await both()).every((n) => n >= 1), 'both rows are held');

    // Written straight to the store, without a change row: this replica still holds the agent as active.
    assert.equal(await fx.app.store.agents.setStatus(agent.agent.id, 'suspended', ['active']), true);
    assertOAuthError(await exchange(), 'ERR_CLIENT_INACTIVE', 'the agent is suspended');
    assert.deepEqual(await both(), [0, 0], 'the refusal emptied the copies');
    assert.equal(await fx.app.store.counters.remaining(mandateId), 2, 'the refused request\'s use came back');
    assertOAuthError(await exchange(), 'ERR_CLIENT_INACTIVE', 'the agent is suspended'); // now refused before its commit
    assert.equal(await fx.app.store.agents.setStatus(agent.agent.id, 'active', ['suspended']), true);
    assert.equal((await exchange()).status, 200);
    assert.ok((await both()).every((n) => n >= 1), 'held again');

    assert.equal(await fx.app.store.mandates.transition(mandateId, ['active'], { status: 'suspended', endReason: 'test' }), true);
    assertOAuthError(await exchange(), 'ERR_MINT_MANDATE_INACTIVE', 'the mandate is suspended', 'mandate_suspended');
    assert.deepEqual(await both(), [0, 0]);
    assert.equal(await fx.app.store.counters.remaining(mandateId), 1, 'given back');
    assert.equal(await tokens(), before + 1, 'no credential was stored for a refused request');
  });

  test('a mandate used up is forgotten where it was used up (the agents stay): its next request is refused before a use is taken, as exhausted', async () => {
    const fx = fixture();
    await agentWithMintedMandate(fx); // another agent and mandate, held throughout
    const { mandateId, exchanger } = await agentWithMintedMandate(fx, 3); // the CIBA token and one mint: 1 use left
    const exchange = await exchanger();
    const [agents, mandates] = [await cached(fx, 'agents'), await cached(fx, 'mandates')];
    assert.ok(agents >= 2 && mandates >= 2, 'both agents and both mandates are held');
    assert.equal((await exchange()).status, 200, 'the last use');
    assert.deepEqual([await cached(fx, 'agents'), await cached(fx, 'mandates')], [agents, mandates - 1], 'only the used-up mandate was forgotten');
    assertOAuthError(await exchange(), 'ERR_MINT_MANDATE_INACTIVE', 'the mandate is exhausted', 'mandate_exhausted');
    assert.equal(await fx.app.store.counters.remaining(mandateId), 0);
  });

  test('a change on the feed empties the replica\'s copies: the next request is refused at authentication', async () => {
    const fx = fixture();
    const { agent, client } = await agentWithMintedMandate(fx);
    assert.ok((await cached(fx, 'agents')) >= 1);
    assert.equal((await fx.adminApi('POST', `/admin/v1/agents/${agent.agent.id}/suspend`, fx.secrets.admin)).status, 200);
    const started = performance.now();
    while ((await cached(fx, 'agents')) > 0 || (await cached(fx, 'mandates')) > 0) {
      assert.ok(performance.now() - started < 3_000, 'the suspension\'s change did not empty the caches');
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    await assert.rejects(client.mint({ resource: API }), refusal((error) => assert.equal(error.errorDescription, 'the agent is suspended')));
    assert.equal(await cached(fx, 'agents'), 0, 'a suspended agent is not kept');
  });
}
