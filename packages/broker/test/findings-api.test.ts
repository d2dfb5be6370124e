import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { ecPublicJwk, json, startTestApp, type TestApp } from './support/app-fixture.ts';
import { runCli } from './support/cli-runner.ts';
import { assertFamilyError } from './support/wire-asserts.ts';

/** The findings routes of the admin API: recording (deduplicated), converting, dismissing, and each rejection. */

const GITHUB = 'https://api.github.com';
const ctx = { actor: '', requestId: 'req_AAAAAAAAAAAAAAAAAAAAAA' };
let t: TestApp;
let dev: { id: string };
let reader: string;

before(async () => {
  t = await startTestApp({ config: { audiences: { [GITHUB]: { actions: ['read', 'write'] } } } });
  ctx.actor = t.admin.id;
  dev = await t.app.directory.addHuman({ name: 'dev', email: 'Dev@Example.com' }, ctx);
  reader = (await t.app.adminTokens.create({ humanId: t.admin.id, label: 'reader', rights: ['findings:read'] }, { ...ctx, callerRights: ['admin'] })).secret;
});
after(() => t.close());

const fingerprint = () => `sha256:${createHash('sha256').update(randomBytes(16)).digest('base64url')}`;
const reported = (overrides: Record<string, unknown> = {}) => ({
  kind: 'github_classic_pat', service: GITHUB, file: 'agents/triage/.env', line: 2, fingerprint: fingerprint(),
  owner_guess: 'dev@example.com', reason: 'a classic PAT acts as the human who created it', ...overrides,
});
async function recordOne(overrides: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
  const response = await t.call('POST', '/admin/v1/findings', { findings: [reported(overrides)] });
  assert.equal(response.statusCode, 200, response.body);
  return (json(response).findings as Array<Record<string, unknown>>)[0]!;
}
const auditTypes = async (n: number) => (await t.app.store.audit.tail(n)).map((e) => e.type);
let agentNames = 0;
const agentName = () => `converted-${++agentNames}`;

describe('recording', () => {
  test('a new finding is open and created; the same one again is not created twice; each new one audited once', async () => {
    const finding = reported();
    const first = json(await t.call('POST', '/admin/v1/findings', { findings: [finding, { ...finding, line: 3 }] })).findings as Array<Record<string, unknown>>;
    assert.deepEqual(first.map((f) => [f.status, f.created, f.line]), [['open', true, 2], ['open', true, 3]]);
    assert.match(String(first[0]!.id), /^fnd_[A-Za-z0-9_-]{22}$/);
    assert.equal(first[0]!.recorded_by, t.admin.id);
    const again = json(await t.call('POST', '/admin/v1/findings', { findings: [finding] })).findings as Array<Record<string, unknown>>;
    assert.deepEqual([again[0]!.id, again[0]!.created], [first[0]!.id, false]);
    const events = (await t.app.store.audit.tail(5)).filter((e) => e.type === 'finding.recorded' && e.data.fingerprint === finding.fingerprint);
    assert.deepEqual(events.map((e) => e.data.line), [2, 3]);
    assert.deepEqual(events[0]!.data, { finding_id: first[0]!.id, kind: 'github_classic_pat', service: GITHUB, file: 'agents/triage/.env', line: 2, fingerprint: finding.fingerprint, owner_guess: 'dev@example.com' });
  });

  test('list filters by status; show returns one finding', async () => {
    const open = await recordOne();
    const listed = json(await t.call('GET', '/admin/v1/findings?status=open', undefined, reader)).findings as Array<{ id: string; status: string }>;
    assert.ok(listed.some((f) => f.id === open.id) && listed.every((f) => f.status === 'open'));
    const { created: _created, ...stored } = open;
    assert.deepEqual(json(await t.call('GET', `/admin/v1/findings/${String(open.id)}`, undefined, reader)), stored);
  });

  test('a fingerprint that is not sha256:<base64url> (ERR_REQUEST_INVALID_PARAMETER)', async () => {
    const body = assertFamilyError(await t.call('POST', '/admin/v1/findings', { findings: [reported({ fingerprint: 'ghp_notahash' })] }), 'admin', 400, 'ERR_REQUEST_INVALID_PARAMETER');
    assert.equal(body.parameter, 'findings[0].fingerprint');
  });

  test('an unknown credential kind (ERR_REQUEST_INVALID_PARAMETER)', async () => {
    assertFamilyError(await t.call('POST', '/admin/v1/findings', { findings: [reported({ kind: 'password' })] }), 'admin', 400, 'ERR_REQUEST_INVALID_PARAMETER');
  });

  test('findings:read may list but not record (ERR_ADMIN_FORBIDDEN)', async () => {
    assertFamilyError(await t.call('POST', '/admin/v1/findings', { findings: [reported()] }, reader), 'admin', 403, 'ERR_ADMIN_FORBIDDEN');
  });
});

describe('converting', () => {
  test('the owner guess names the owner; the proposal is an agent, a draft task and a checklist; audited with who converted', async () => {
    const finding = await recordOne();
    const name = agentName();
    const response = await t.call('POST', `/admin/v1/findings/${String(finding.id)}/convert`, { agent_name: name });
    assert.equal(response.statusCode, 200, response.body);
    const converted = json(response);
    assert.equal(converted.status, 'converted');
    assert.equal(converted.decided_by, t.admin.id);
    const proposal = converted.conversion as Record<string, any>;
    assert.deepEqual(proposal.agent, { name, kind: 'ai_agent', owners: [dev.id], approvers: [dev.id], policy: 'default' });
    assert.deepEqual({ ...proposal.task, purpose: 'x' }, { type: 'agent-task', purpose: 'x', locations: [GITHUB], actions: ['read'] });
    assert.match(proposal.task.purpose, /GitHub personal access token \(classic\).*agents\/triage\/\.env line 2/);
    assert.equal(proposal.login_hint, dev.id);
    assert.equal(proposal.owner_source, 'owner_guess');
    assert.equal(proposal.audience_configured, true);
    assert.deepEqual(proposal.checklist.map((i: { step: string }) => i.step), ['revoke_at_provider', 'remove_from_source', 'register_agent', 'ask_with_sdk', 'confirm_unused']);
    assert.equal(proposal.checklist[0].url, 'https://github.com/settings/tokens');
    const [event] = (await t.app.store.audit.tail(1));
    assert.equal(event!.type, 'finding.converted');
    assert.equal(event!.actor, t.admin.id);
    assert.deepEqual(event!.data, { finding_id: finding.id, fingerprint: finding.fingerprint, owner: dev.id, owner_source: 'owner_guess', agent_name: name, audience: GITHUB, actions: ['read'] });
  });

  test('an admin names the owner, purpose and actions; an unregistered service adds the audience step', async () => {
    const finding = await recordOne({ owner_guess: null, kind: 'gitlab_pat', service: 'https://gitlab.acme.test/api/v4', file: 'env:GITLAB_TOKEN', line: 0 });
    const body = { agent_name: agentName(), owner: dev.id, purpose: 'Label merge requests', actions: ['api'] };
    const proposal = json(await t.call('POST', `/admin/v1/findings/${String(finding.id)}/convert`, body)).conversion as Record<string, any>;
    assert.equal(proposal.owner_source, 'named');
    assert.equal(proposal.audience_configured, false);
    assert.deepEqual(proposal.task, { type: 'agent-task', purpose: 'Label merge requests', locations: ['https://gitlab.acme.test/api/v4'], actions: ['api'] });
    assert.deepEqual(proposal.checklist.map((i: { step: string }) => i.step), ['revoke_at_provider', 'remove_from_source', 'configure_audience', 'register_agent', 'ask_with_sdk', 'confirm_unused']);
    assert.equal(proposal.checklist[0].url, 'https://gitlab.acme.test/-/user_settings/personal_access_tokens');
    assert.equal(proposal.checklist[1].title, 'Unset GITLAB_TOKEN in the agent\'s environment');
  });

  test('no active human matches the owner guess and none is named (ERR_FINDING_OWNER_REQUIRED)', async () => {
    const finding = await recordOne({ owner_guess: 'stranger@example.com' });
    const body = assertFamilyError(await t.call('POST', `/admin/v1/findings/${String(finding.id)}/convert`, { agent_name: agentName() }), 'admin', 400, 'ERR_FINDING_OWNER_REQUIRED');
    assert.equal(body.owner_guess, 'stranger@example.com');
    assert.equal(json(await t.call('GET', `/admin/v1/findings/${String(finding.id)}`)).status, 'open');
  });

  test('converting or dismissing a decided finding (ERR_FINDING_STATE)', async () => {
    const finding = await recordOne();
    await t.call('POST', `/admin/v1/findings/${String(finding.id)}/convert`, { agent_name: agentName() });
    const body = assertFamilyError(await t.call('POST', `/admin/v1/findings/${String(finding.id)}/convert`, { agent_name: agentName() }), 'admin', 409, 'ERR_FINDING_STATE');
    assert.equal(body.finding_status, 'converted');
    assertFamilyError(await t.call('POST', `/admin/v1/findings/${String(finding.id)}/dismiss`, { reason: 'late' }), 'admin', 409, 'ERR_FINDING_STATE');
  });

  test('an unknown finding (ERR_FINDING_NOT_FOUND)', async () => {
    const body = assertFamilyError(await t.call('GET', '/admin/v1/findings/fnd_QQQQQQQQQQQQQQQQQQQQQQ'), 'admin', 404, 'ERR_FINDING_NOT_FOUND');
    assert.equal(body.detail, 'no finding fnd_QQQQQQQQQQQQQQQQQQQQQQ');
    assertFamilyError(await t.call('POST', '/admin/v1/findings/fnd_QQQQQQQQQQQQQQQQQQQQQQ/convert', { agent_name: agentName() }), 'admin', 404, 'ERR_FINDING_NOT_FOUND');
  });

  test('an action the audience does not register (ERR_REQUEST_INVALID_PARAMETER)', async () => {
    const finding = await recordOne();
    const body = assertFamilyError(await t.call('POST', `/admin/v1/findings/${String(finding.id)}/convert`, { agent_name: agentName(), actions: ['admin'] }), 'admin', 400, 'ERR_REQUEST_INVALID_PARAMETER');
    assert.equal(body.parameter, 'actions');
  });

  test('an agent name already registered (ERR_AGENT_NAME_TAKEN)', async () => {
    await t.app.directory.addAgent({ name: 'taken-name', owners: [dev.id], policy: 'default', jwk: ecPublicJwk() }, ctx);
    const finding = await recordOne();
    assertFamilyError(await t.call('POST', `/admin/v1/findings/${String(finding.id)}/convert`, { agent_name: 'taken-name' }), 'admin', 409, 'ERR_AGENT_NAME_TAKEN');
  });

  test('naming an owner who is not a known human (ERR_AGENT_HUMAN_UNKNOWN) or is disabled (ERR_AGENT_HUMAN_DISABLED)', async () => {
    const finding = await recordOne();
    const convert = (owner: string) => t.call('POST', `/admin/v1/findings/${String(finding.id)}/convert`, { agent_name: agentName(), owner });
    assertFamilyError(await convert('usr_QQQQQQQQQQQQQQQQQQQQQQ'), 'admin', 400, 'ERR_AGENT_HUMAN_UNKNOWN');
    const gone = await t.app.directory.addHuman({ name: 'gone', email: 'gone@example.com' }, ctx);
    await t.app.directory.disableHuman(gone.id, { ...ctx, callerRights: ['admin'] });
    assertFamilyError(await convert(gone.id), 'admin', 400, 'ERR_AGENT_HUMAN_DISABLED');
  });
});

describe('dismissing', () => {
  test('dismissed with a reason, by the caller; audited', async () => {
    const finding = await recordOne();
    const dismissed = json(await t.call('POST', `/admin/v1/findings/${String(finding.id)}/dismiss`, { reason: 'test fixture, not a real token' }));
    assert.deepEqual([dismissed.status, dismissed.dismiss_reason, dismissed.decided_by], ['dismissed', 'test fixture, not a real token', t.admin.id]);
    const [event] = await t.app.store.audit.tail(1);
    assert.deepEqual([event!.type, event!.data.reason, event!.data.finding_id], ['finding.dismissed', 'test fixture, not a real token', finding.id]);
    assert.deepEqual(await auditTypes(1), ['finding.dismissed']);
  });

  test('a blank reason (ERR_REQUEST_INVALID_PARAMETER)', async () => {
    const finding = await recordOne();
    assertFamilyError(await t.call('POST', `/admin/v1/findings/${String(finding.id)}/dismiss`, { reason: '   ' }), 'admin', 400, 'ERR_REQUEST_INVALID_PARAMETER');
  });
});

describe('the CLI (mandate finding …)', () => {
  let url: string;
  before(async () => {
    await t.app.http.listen({ host: '127.0.0.1', port: 0 });
    url = `http://127.0.0.1:${(t.app.http.server.address() as { port: number }).port}`;
  });
  const cli = (...args: string[]) => runCli([...args, '--url', url], { MANDATE_ADMIN_TOKEN: t.adminSecret });

  test('list, convert with a printed checklist, show, dismiss; a refusal exits 1 with its code', async () => {
    const converted = await recordOne({ file: 'cli/.env' });
    const dismissed = await recordOne({ file: 'cli/fixture.env', owner_guess: 'nobody@example.com' });
    const listed = await cli('finding', 'list', '--status', 'open');
    assert.equal(listed.exitCode, 0, listed.err);
    assert.match(listed.out, new RegExp(`${String(converted.id)}\\s+open\\s+github_classic_pat\\s+cli/\\.env\\s+2\\s+dev@example\\.com`));
    const refused = await cli('finding', 'convert', String(dismissed.id));
    assert.deepEqual([refused.exitCode, refused.err.startsWith('error: ERR_FINDING_OWNER_REQUIRED: ')], [1, true]);
    const convert = await cli('finding', 'convert', String(converted.id), '--action', 'write');
    assert.equal(convert.exitCode, 0, convert.err);
    const name = `borrowed-${String(converted.id).slice(4).replace(/[^A-Za-z0-9]/g, '').slice(0, 10).toLowerCase()}`;
    assert.match(convert.out, new RegExp(`mandate agent add --name ${name} --owner ${dev.id} --policy default --jwk <agent public key>`));
    assert.match(convert.out, /remediation checklist:\n {2}1\. \[ \] Revoke the GitHub personal access token \(classic\) at the provider \(https:\/\/github\.com\/settings\/tokens\)/);
    assert.match(convert.out, /"actions": \[\n\s+"write"\n\s+\]/);
    const dismiss = await cli('finding', 'dismiss', String(dismissed.id), '--reason', 'a test fixture');
    assert.equal(dismiss.exitCode, 0, dismiss.err);
    assert.match((await cli('finding', 'show', String(dismissed.id))).out, /status:\s+dismissed[\s\S]*dismiss_reason:\s+a test fixture/);
  });
});
