import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ecPublicJwk, ed25519PublicJwk, startTestApp, type TestApp } from '../../test/support/app-fixture.ts';
import { MandateError } from '../core/errors.ts';
import type { Agent } from '../core/model.ts';
import { aCredential, aMandate } from '../store/conformance/records.ts';
import type { AddAgentInput } from './directory.ts';

let t: TestApp;
let ctx: { actor: string; requestId: string };
let names = 0;
before(async () => {
  t = await startTestApp();
  ctx = { actor: t.admin.id, requestId: 'req_AAAAAAAAAAAAAAAAAAAAAA' };
});
after(() => t.close());

const directory = () => t.app.directory;
const newHuman = (name = 'someone') => directory().addHuman({ name }, ctx);
const lastEvents = async (n: number) => t.app.store.audit.tail(n);

/** After `skip` revocation commits go through, the next one fails (as when the audit store is down); later ones go through. */
function failRevocationCommit(skip = 0): void {
  const changes = t.app.store.changes;
  const real = changes.commitRevocation!;
  let left = skip;
  changes.commitRevocation = async (...args) => {
    if (left-- > 0) return real(...args);
    changes.commitRevocation = real;
    throw new Error('audit store down');
  };
}
const revoked = async (jtis: string[]) => Promise.all(jtis.map(async (jti) => (await t.app.store.credentials.get(jti))!.revokedAt !== null));

async function agentInput(overrides: Partial<AddAgentInput> = {}): Promise<AddAgentInput> {
  const owner = overrides.owners ? undefined : await newHuman('owner');
  return { name: `agent-${++names}`, owners: owner ? [owner.id] : [], policy: 'default', jwk: ecPublicJwk(), ...overrides };
}

async function rejects(promise: Promise<unknown>, code: string, message: RegExp): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof MandateError, String(error));
    assert.equal(error.code, code);
    assert.match(error.message, message);
    return true;
  });
}

describe('humans', () => {
  test('addHuman stores the human and audits human.added with actor and request id', async () => {
    const human = await directory().addHuman({ name: 'Alice', email: 'alice@example.com' }, ctx);
    assert.match(human.id, /^usr_[A-Za-z0-9_-]{22}$/);
    assert.deepEqual(await directory().getHuman(human.id), human);
    const [event] = await lastEvents(1);
    assert.equal(event!.type, 'human.added');
    assert.equal(event!.actor, t.admin.id);
    assert.equal(event!.requestId, ctx.requestId);
    assert.equal(event!.data.human_id, human.id);
  });

  test('getHuman of an unknown id is ERR_HUMAN_NOT_FOUND', () => rejects(directory().getHuman('usr_nobody'), 'ERR_HUMAN_NOT_FOUND', /no human usr_nobody/));
  test('a blank name is refused', () => rejects(directory().addHuman({ name: '   ' }, ctx), 'ERR_REQUEST_INVALID_PARAMETER', /must not be blank/));
  test('disabling an unknown human is ERR_HUMAN_NOT_FOUND', () => rejects(directory().disableHuman('usr_nobody', ctx), 'ERR_HUMAN_NOT_FOUND', /no human/));
});

describe('agent registration', () => {
  test('registers a P-256 agent; approvers default to the owners; audited', async () => {
    const input = await agentInput();
    const agent = await directory().addAgent(input, ctx);
    assert.match(agent.id, /^agt_/);
    assert.deepEqual(agent.approvers, agent.owners);
    assert.equal(agent.kind, 'ai_agent');
    assert.equal(agent.status, 'active');
    assert.deepEqual(await directory().getAgent(agent.id), agent);
    const [event] = await lastEvents(1);
    assert.equal(event!.type, 'agent.registered');
    assert.equal(event!.data.jwk_thumbprint, agent.jwkThumbprint);
  });

  test('accepts an Ed25519 key and explicit approvers', async () => {
    const approver = await newHuman('approver');
    const agent = await directory().addAgent(await agentInput({ jwk: ed25519PublicJwk(), approvers: [approver.id], kind: 'workload' }), ctx);
    assert.equal(agent.jwk.kty, 'OKP');
    assert.deepEqual(agent.approvers, [approver.id]);
  });

  test('no owner', async () => rejects(directory().addAgent(await agentInput({ owners: [] }), ctx), 'ERR_AGENT_OWNER_REQUIRED', /at least one human/));
  test('an agent id as owner', async () =>
    rejects(directory().addAgent(await agentInput({ owners: [`agt_${'A'.repeat(22)}`] }), ctx), 'ERR_REQUEST_INVALID_PARAMETER', /human ids \(usr_…\)/));
  test('the same owner twice', async () => {
    const owner = await newHuman();
    await rejects(directory().addAgent(await agentInput({ owners: [owner.id, owner.id] }), ctx), 'ERR_REQUEST_INVALID_PARAMETER', /twice/);
  });
  test('an unknown owner', async () =>
    rejects(directory().addAgent(await agentInput({ owners: [`usr_${'Z'.repeat(22)}`] }), ctx), 'ERR_AGENT_HUMAN_UNKNOWN', /not a known human/));
  test('a disabled owner', async () => {
    const owner = await newHuman();
    await directory().disableHuman(owner.id, ctx);
    await rejects(directory().addAgent(await agentInput({ owners: [owner.id] }), ctx), 'ERR_AGENT_HUMAN_DISABLED', /is disabled/);
  });
  test('a disabled approver', async () => {
    const approver = await newHuman();
    await directory().disableHuman(approver.id, ctx);
    await rejects(directory().addAgent(await agentInput({ approvers: [approver.id] }), ctx), 'ERR_AGENT_HUMAN_DISABLED', /is disabled/);
  });
  test('an empty approver list', async () =>
    rejects(directory().addAgent(await agentInput({ approvers: [] }), ctx), 'ERR_REQUEST_INVALID_PARAMETER', /approvers must name/));
  test('an unknown policy', async () =>
    rejects(directory().addAgent(await agentInput({ policy: 'nope' }), ctx), 'ERR_AGENT_POLICY_UNKNOWN', /no attestation policy named "nope"/));
  test('a policy name inherited from Object.prototype is unknown', async () =>
    rejects(directory().addAgent(await agentInput({ policy: 'toString' }), ctx), 'ERR_AGENT_POLICY_UNKNOWN', /toString/));
  test('a private JWK', async () =>
    rejects(directory().addAgent(await agentInput({ jwk: { ...ecPublicJwk(), d: 'x' } }), ctx), 'ERR_AGENT_JWK_INVALID', /"d" is not allowed/));
  test('coordinates that are not a point on P-256', async () => {
    const jwk = ecPublicJwk();
    const y = `${jwk.y![0] === 'A' ? 'B' : 'A'}${jwk.y!.slice(1)}`;
    await rejects(directory().addAgent(await agentInput({ jwk: { ...jwk, y } }), ctx), 'ERR_AGENT_JWK_INVALID', /not a point on the curve/);
  });
  test('a name already registered', async () => {
    const first = await directory().addAgent(await agentInput(), ctx);
    await rejects(directory().addAgent(await agentInput({ name: first.name }), ctx), 'ERR_AGENT_NAME_TAKEN', /already exists/);
  });
});

describe('agent lifecycle', () => {
  let agent: Agent;
  before(async () => {
    agent = await directory().addAgent(await agentInput(), ctx);
  });

  test('active → suspended, audited', async () => {
    assert.equal((await directory().suspendAgent(agent.id, ctx)).status, 'suspended');
    const [event] = await lastEvents(1);
    assert.deepEqual([event!.type, event!.data.agent_id], ['agent.suspended', agent.id]);
  });
  test('suspended cannot be suspended again', () => rejects(directory().suspendAgent(agent.id, ctx), 'ERR_AGENT_STATE', /is suspended and cannot become suspended/));
  test('suspended → retired, audited', async () => {
    assert.equal((await directory().retireAgent(agent.id, ctx)).status, 'retired');
    assert.equal((await lastEvents(1))[0]!.type, 'agent.retired');
  });
  test('retired is terminal: no retire', () => rejects(directory().retireAgent(agent.id, ctx), 'ERR_AGENT_STATE', /is retired/));
  test('retired is terminal: no suspend', () => rejects(directory().suspendAgent(agent.id, ctx), 'ERR_AGENT_STATE', /is retired/));
  test('active → retired directly', async () => {
    const other = await directory().addAgent(await agentInput(), ctx);
    assert.equal((await directory().retireAgent(other.id, ctx)).status, 'retired');
  });
  test('an unknown agent', () => rejects(directory().suspendAgent('agt_nobody', ctx), 'ERR_AGENT_NOT_FOUND', /no agent agt_nobody/));
});

describe('disabling a human', () => {
  test('audits human.disabled and agent.orphaned only for agents left without an active owner', async () => {
    const leaving = await newHuman('leaving');
    const staying = await newHuman('staying');
    const orphan = await directory().addAgent(await agentInput({ owners: [leaving.id] }), ctx);
    const shared = await directory().addAgent(await agentInput({ owners: [leaving.id, staying.id] }), ctx);
    const retired = await directory().addAgent(await agentInput({ owners: [leaving.id] }), ctx);
    await directory().retireAgent(retired.id, ctx);
    const disabled = await directory().disableHuman(leaving.id, ctx);
    assert.equal(disabled.status, 'disabled');
    const events = await lastEvents(2);
    assert.deepEqual(events.map((e) => e.type), ['human.disabled', 'agent.orphaned']);
    assert.equal(events[1]!.data.agent_id, orphan.id);
    assert.equal(events[1]!.actor, t.admin.id);
    assert.notEqual(events[1]!.data.agent_id, shared.id);
  });

  /** A human approving one active mandate with a token, and the human's audit events so far. */
  async function approverWithMandate(n: number) {
    const human = await newHuman('approver');
    const agent = await directory().addAgent(await agentInput({ owners: [human.id] }), ctx);
    const mandate = aMandate(n, agent.id, human.id, { status: 'active' });
    await t.app.store.mandates.insert(mandate);
    await t.app.store.credentials.insert(aCredential(`jti-disable-${n}`, agent.id, mandate.id));
    return { human, mandate, jti: `jti-disable-${n}` };
  }
  const disabledEventsOf = async (humanId: string) => (await t.app.store.audit.tail(200)).filter((e) => e.type === 'human.disabled' && e.data.human_id === humanId).length;

  test('a failed commit changes nothing (status, audit, mandates); the retry does it all, audited once', async () => {
    const { human, mandate, jti } = await approverWithMandate(95_001);
    failRevocationCommit();
    await rejects(directory().disableHuman(human.id, ctx), 'ERR_AUDIT_UNAVAILABLE', /could not commit/);
    assert.equal((await directory().getHuman(human.id)).status, 'active', 'not disabled without its audit event');
    assert.equal(await disabledEventsOf(human.id), 0);
    assert.equal((await t.app.store.mandates.get(mandate.id))!.status, 'active');
    assert.equal((await directory().disableHuman(human.id, ctx)).status, 'disabled');
    assert.equal(await disabledEventsOf(human.id), 1);
    assert.equal((await t.app.store.mandates.get(mandate.id))!.status, 'revoked');
    assert.deepEqual(await revoked([jti]), [true]);
  });

  test('when the cascade fails, the human is disabled and audited; the retry revokes the mandates and audits nothing twice', async () => {
    const { human, mandate, jti } = await approverWithMandate(95_002);
    failRevocationCommit(1); // the human's own commit goes through, the mandate's revocation fails
    await rejects(directory().disableHuman(human.id, ctx), 'ERR_AUDIT_UNAVAILABLE', /could not commit/);
    assert.equal((await directory().getHuman(human.id)).status, 'disabled');
    assert.equal(await disabledEventsOf(human.id), 1);
    assert.equal((await t.app.store.mandates.get(mandate.id))!.status, 'active', 'not revoked without its audit event');
    assert.equal((await directory().disableHuman(human.id, ctx)).status, 'disabled');
    assert.equal((await t.app.store.mandates.get(mandate.id))!.status, 'revoked');
    assert.deepEqual(await revoked([jti]), [true]);
    assert.equal(await disabledEventsOf(human.id), 1);
  });

  test('two co-owners disabled at once: the agent they leave without an active owner is recorded as orphaned', async () => {
    const [one, two] = [await newHuman('one'), await newHuman('two')];
    const agent = await directory().addAgent(await agentInput({ owners: [one.id, two.id] }), ctx);
    await Promise.all([directory().disableHuman(one.id, ctx), directory().disableHuman(two.id, ctx)]);
    const orphaned = (await lastEvents(20)).filter((e) => e.type === 'agent.orphaned' && e.data.agent_id === agent.id);
    assert.ok(orphaned.length >= 1, 'each call read the other owner as active before either committed');
  });

  test('disabling twice changes nothing and audits nothing', async () => {
    const human = await newHuman();
    await directory().disableHuman(human.id, ctx);
    const before = (await lastEvents(1))[0]!.seq;
    assert.equal((await directory().disableHuman(human.id, ctx)).status, 'disabled');
    assert.equal((await lastEvents(1))[0]!.seq, before);
  });
});

/**
 * An agent's suspension or retirement: the status, its tokens, the change and the audit event are
 * one commit; its mandates' cascade follows. A failed first commit changes nothing; when the
 * cascade fails (audit store down, a PostgreSQL deadlock), the caller is told to retry, and the
 * retry must finish the cascade instead of answering "already suspended".
 */
describe('a suspension or retirement: one commit, then the cascade a retry finishes', () => {
  let seq = 0;
  /** An agent with an active mandate holding one token, and one autonomous token. */
  async function agentWithTokens() {
    const agent = await directory().addAgent(await agentInput(), ctx);
    const n = 90_000 + ++seq;
    const mandate = aMandate(n, agent.id, agent.owners[0]!, { status: 'active' });
    await t.app.store.mandates.insert(mandate);
    await t.app.store.credentials.insert(aCredential(`jti-retry-${n}-m`, agent.id, mandate.id));
    await t.app.store.credentials.insert(aCredential(`jti-retry-${n}-a`, agent.id, null));
    return { agent, mandate, jtis: [`jti-retry-${n}-m`, `jti-retry-${n}-a`] };
  }
  const eventsOf = async (type: string, agentId: string) => (await t.app.store.audit.tail(200)).filter((e) => e.type === type && e.data.agent_id === agentId).length;
  const changesOf = async (agentId: string) => (await t.app.store.changes.since(0, 10_000)).filter((c) => c.key === agentId).map((c) => c.topic);

  test('retireAgent: a retry also revokes the mandates delegated below a mandate the failed call did revoke', async () => {
    const agent = await directory().addAgent(await agentInput(), ctx);
    const child = await directory().addAgent(await agentInput(), ctx);
    const approver = agent.owners[0]!;
    const subTokens: string[] = [];
    for (const i of [1, 2]) {
      const n = 90_000 + ++seq;
      await t.app.store.mandates.insert(aMandate(n, agent.id, approver, { status: 'active' }));
      await t.app.store.mandates.insert(aMandate(n + 500_000, child.id, approver, { status: 'active', hop: { parentId: `mdt_${n}`, depth: 1, subGrantHash: `sub-${n}` } }));
      await t.app.store.credentials.insert(aCredential(`jti-sub-${n}-${i}`, child.id, `mdt_${n + 500_000}`));
      subTokens.push(`jti-sub-${n}-${i}`);
    }
    failRevocationCommit(1); // the agent's own commit goes through; one root fails, the other is revoked; the walk below them never starts
    await rejects(directory().retireAgent(agent.id, ctx), 'ERR_AUDIT_UNAVAILABLE', /could not commit/);
    assert.equal((await directory().getAgent(agent.id)).status, 'retired');
    assert.deepEqual(await revoked(subTokens), [false, false]);
    await directory().retireAgent(agent.id, ctx);
    assert.deepEqual(await revoked(subTokens), [true, true], 'both delegated mandates\' tokens are revoked');
    await rejects(directory().retireAgent(agent.id, ctx), 'ERR_AGENT_STATE', /is retired/);
  });

  test('contraindicated evidence (the agent stays active): a mandate whose suspension fails does not keep its tokens or the other mandates live', async () => {
    const { agent, mandate, jtis } = await agentWithTokens();
    const other = aMandate(90_000 + ++seq, agent.id, agent.owners[0]!, { status: 'active' });
    await t.app.store.mandates.insert(other);
    failRevocationCommit(); // the first mandate's suspension fails
    await rejects(t.app.loop.revocation.suspendAgentMandates(agent.id, ctx), 'ERR_AUDIT_UNAVAILABLE', /could not commit/);
    const statuses = [(await t.app.store.mandates.get(mandate.id))!.status, (await t.app.store.mandates.get(other.id))!.status].sort();
    assert.deepEqual(statuses, ['active', 'suspended'], 'the other mandate is suspended');
    assert.deepEqual(await revoked(jtis), [true, true], 'the agent\'s tokens are revoked all the same');
    assert.deepEqual(await changesOf(agent.id), ['agent.suspended']);
    assert.equal((await directory().getAgent(agent.id)).status, 'active');
  });

  for (const [action, to, mandateStatus] of [['suspendAgent', 'suspended', 'suspended'], ['retireAgent', 'retired', 'revoked']] as const) {
    test(`${action}: the status, every token of the agent, the change and the audit event commit together`, async () => {
      const { agent, jtis } = await agentWithTokens();
      assert.equal((await directory()[action](agent.id, ctx)).status, to);
      assert.deepEqual(await revoked(jtis), [true, true]);
      assert.deepEqual(await changesOf(agent.id), [`agent.${to}`], 'one change for replicas and the push');
      const events = (await t.app.store.audit.tail(50)).filter((e) => e.type === `agent.${to}` && e.data.agent_id === agent.id);
      assert.deepEqual(events.map((e) => [e.data.previous_status, e.data.credentials_revoked]), [['active', 2]]);
    });

    test(`${action}: a failed commit changes nothing (status, tokens, change, audit); the retry does it all; a third call is refused`, async () => {
      const { agent, mandate, jtis } = await agentWithTokens();
      failRevocationCommit();
      await rejects(directory()[action](agent.id, ctx), 'ERR_AUDIT_UNAVAILABLE', /could not commit/);
      assert.equal((await directory().getAgent(agent.id)).status, 'active', 'the status change did not commit');
      assert.deepEqual(await revoked(jtis), [false, false]);
      assert.deepEqual([await changesOf(agent.id), await eventsOf(`agent.${to}`, agent.id)], [[], 0]);
      assert.equal((await directory()[action](agent.id, ctx)).status, to);
      assert.deepEqual(await revoked(jtis), [true, true]);
      assert.equal((await t.app.store.mandates.get(mandate.id))!.status, mandateStatus);
      assert.equal(await eventsOf(`agent.${to}`, agent.id), 1);
      await rejects(directory()[action](agent.id, ctx), 'ERR_AGENT_STATE', new RegExp(`is ${to} and cannot become ${to}`));
    });

    test(`${action}: when the mandates' cascade fails, the tokens are revoked already and the retry ends the mandate; the status change is audited once`, async () => {
      const { agent, mandate, jtis } = await agentWithTokens();
      failRevocationCommit(1); // the agent's own commit goes through, the mandate's fails
      await rejects(directory()[action](agent.id, ctx), 'ERR_AUDIT_UNAVAILABLE', /could not commit/);
      assert.equal((await directory().getAgent(agent.id)).status, to);
      assert.deepEqual(await revoked(jtis), [true, true], 'revoked with the status');
      assert.equal((await t.app.store.mandates.get(mandate.id))!.status, 'active', 'not ended without its audit event');
      assert.deepEqual((await t.app.store.audit.byMandate(mandate.id, 10)).map((e) => e.type), []);
      assert.equal((await directory()[action](agent.id, ctx)).status, to);
      assert.equal((await t.app.store.mandates.get(mandate.id))!.status, mandateStatus);
      assert.deepEqual((await t.app.store.audit.byMandate(mandate.id, 10)).map((e) => e.type), [`mandate.${mandateStatus}`]);
      assert.equal(await eventsOf(`agent.${to}`, agent.id), 1);
      assert.deepEqual(await changesOf(agent.id), [`agent.${to}`]);
      // A suspension's mandate has no change of its own (the agent's ends its tokens); a retirement's revocation has one.
      assert.deepEqual(await changesOf(mandate.id), to === 'suspended' ? [] : ['mandate.revoked']);
      await rejects(directory()[action](agent.id, ctx), 'ERR_AGENT_STATE', new RegExp(`is ${to} and cannot become ${to}`));
    });
  }
});
