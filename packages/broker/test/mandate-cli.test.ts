import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import { createAgentClient, type AgentClient } from '@mandate/sdk';
import { exportJWK, generateKeyPair } from 'jose';
import { json, startTestApp, type TestApp } from './support/app-fixture.ts';
import { runCli, unusedPort, type CliRun } from './support/cli-runner.ts';

/**
 * `mandate list|show|approve|deny|revoke` and `token inspect` against a real listening broker.
 * Pending mandates are made the real way: an agent driven by the SDK attests and asks (CIBA).
 */
const AUDIENCE = 'https://issues.example.test';
const DIGEST = `sha256:${'ab'.repeat(32)}`;

let t: TestApp;
let url: string;
let alice: { id: string; secret: string };
let agentId: string;
let agent: AgentClient;

before(async () => {
  const port = await unusedPort();
  url = `http://127.0.0.1:${port}`;
  t = await startTestApp({
    flags: { port: String(port), issuer: url },
    config: {
      ciba: { interval: 1 },
      audiences: { [AUDIENCE]: { actions: ['issues:read', 'issues:comment'] } },
      attestation: { attestors: { 'code-digest': {} }, policies: { claimed: { anyOf: [{ allOf: [{ attestor: 'code-digest', minStatus: 'warning' }] }] } } },
    },
  });
  await t.app.http.listen({ port, host: '127.0.0.1' });
  const human = json(await t.call('POST', '/admin/v1/humans', { name: 'Alice' }));
  const token = json(await t.call('POST', '/admin/v1/tokens', { human_id: human.id, label: 'alice', rights: ['mandates:read', 'mandates:decide', 'mandates:revoke'] }));
  alice = { id: human.id as string, secret: token.secret as string };
  const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true });
  agentId = json(await t.call('POST', '/admin/v1/agents', { name: 'bot', owners: [alice.id], policy: 'claimed', jwk: await exportJWK(publicKey) })).id as string;
  agent = createAgentClient({ issuer: url, clientId: agentId, clientKey: privateKey, evidence: [{ attestor: 'code-digest', evidence: { digest: DIGEST } }] });
});
after(() => t.close());
afterEach(() => {
  process.exitCode = undefined;
});

type Run = CliRun;

/** Runs `mandate <args>` as `secret`'s human (default Alice). */
function mandate(args: string[], secret: string | null = alice.secret): Promise<Run> {
  return secret ? runCli([...args, '--url', url], { MANDATE_ADMIN_TOKEN: secret }) : runCli(args);
}

/** The agent asks Alice (SDK: attest, then /bc-authorize); returns the pending mandate's id and the request. */
async function ask(purpose: string): Promise<{ id: string; authReqId: string }> {
  const task = { purpose, audience: AUDIENCE, actions: ['issues:read'], notAfter: new Date(Date.now() + 3600_000) };
  const { authReqId } = await agent.ask({ loginHint: alice.id, bindingMessage: purpose, task });
  const listed = JSON.parse((await mandate(['list', '--status', 'pending', '--json'])).out) as Array<{ id: string; binding_message: string }>;
  return { id: listed.find((m) => m.binding_message === purpose)!.id, authReqId };
}

describe('mandate list and show', () => {
  test('list shows a pending mandate as a row and filters by status, agent and approver', async () => {
    const { id } = await ask('List me');
    const run = await mandate(['list']);
    assert.equal(run.exitCode, 0, run.err);
    assert.match(run.out, /^ID +STATUS +AGENT +APPROVER +AUDIENCE +ACTIONS +NOT_AFTER +CREATED_AT$/m);
    assert.match(run.out, new RegExp(`^${id} +pending +${agentId} +${alice.id} +${AUDIENCE} +issues:read +\\d{4}-`, 'm'));
    assert.match((await mandate(['list', '--agent', agentId, '--approver', alice.id, '--limit', '5'])).out, new RegExp(id));
    assert.doesNotMatch((await mandate(['list', '--status', 'revoked'])).out, new RegExp(id));
  });

  test('show prints the task, status, approval and the audit trail; --json has the task document', async () => {
    const { id } = await ask('Show me');
    const run = await mandate(['show', id]);
    assert.equal(run.exitCode, 0, run.err);
    assert.match(run.out, /^purpose: +Show me$/m);
    assert.match(run.out, new RegExp(`^audience: +${AUDIENCE}$`, 'm'));
    assert.match(run.out, /^approval: +-$/m);
    assert.match(run.out, /^credentials \(0\):\n\(none\)$/m);
    assert.match(run.out, /^audit trail \(1 events\):\nTIME +TYPE +ACTOR +APPROVER +JTI +EVIDENCE_DIGEST$/m);
    assert.match(run.out, new RegExp(`^\\d{4}-\\S+Z +mandate\\.requested +${agentId} +${alice.id} +- +[0-9a-f]{64}$`, 'm'));
    const shown = JSON.parse((await mandate(['show', id, '--json'])).out) as { task_document: { purpose: string }; audit: unknown[] };
    assert.equal(shown.task_document.purpose, 'Show me');
    assert.equal(shown.audit.length, 1);
  });

  test('an unknown mandate prints the problem code and detail and exits 1', async () => {
    const run = await mandate(['show', 'mdt_nothing']);
    assert.equal(run.exitCode, 1);
    assert.equal(run.err, 'error: ERR_MANDATE_NOT_FOUND: no mandate mdt_nothing\n');
  });

  test('a bad --limit is a usage error (exit 2)', async () => {
    const run = await mandate(['list', '--limit', '0']);
    assert.equal(run.exitCode, 2);
    assert.match(run.err, /--limit expects a whole number from 1 to 500/);
  });
});

describe('deciding', () => {
  test('approve (only by the named approver), collect, then revoke: show lists the credential and the trail', async () => {
    const { id, authReqId } = await ask('Approve me');
    const byRoot = await mandate(['approve', id], t.adminSecret);
    assert.equal(byRoot.exitCode, 1);
    assert.equal(byRoot.err, 'error: ERR_MANDATE_NOT_APPROVER: only the human named in the request may decide it\n');

    const approved = await mandate(['approve', id]);
    assert.equal(approved.exitCode, 0, approved.err);
    assert.match(approved.out, /^status: +approved$/m);
    assert.match(approved.out, new RegExp(`^approval: +${alice.id} at \\d{4}-\\S+ \\(admin_token\\)$`, 'm'));

    const { accessToken } = await agent.waitForApproval(authReqId, { timeoutMs: 20_000 });
    const jti = (JSON.parse((await mandate(['token', 'inspect', accessToken, '--json'], null)).out) as { claims: { jti: string } }).claims.jti;

    const missingReason = await mandate(['revoke', id]);
    assert.notEqual(missingReason.exitCode, 0);
    assert.match(missingReason.err, /required option '--reason <text>' not specified/);
    const revoked = await mandate(['revoke', id, '--reason', 'task done']);
    assert.equal(revoked.exitCode, 0, revoked.err);
    assert.match(revoked.out, /^status: +revoked$/m);
    assert.match(revoked.out, /^end_reason: +task done$/m);

    const shown = (await mandate(['show', id])).out;
    assert.match(shown, /^credentials \(1\):$/m);
    assert.match(shown, new RegExp(`^${jti} +${AUDIENCE} +\\S+ +\\S+ +\\d{4}-`, 'm'), 'the credential is listed as revoked');
    const types = [...shown.matchAll(/^\d{4}-\S+Z +(\S+)/gm)].map((m) => m[1]);
    assert.deepEqual(types, ['mandate.requested', 'mandate.approved', 'mandate.activated', 'token.issued', 'mandate.revoked']);
    assert.match(shown, new RegExp(`token\\.issued +${agentId} +${alice.id} +${jti} +[0-9a-f]{64}$`, 'm'));
  });

  test('deny, then deciding again is refused', async () => {
    const { id } = await ask('Deny me');
    const denied = await mandate(['deny', id, '--json']);
    assert.equal(denied.exitCode, 0, denied.err);
    assert.equal((JSON.parse(denied.out) as { status: string }).status, 'denied');
    const again = await mandate(['approve', id]);
    assert.equal(again.exitCode, 1);
    assert.equal(again.err, 'error: ERR_MANDATE_STATE: the mandate is denied\n');
  });
});

describe('token inspect', () => {
  const unsigned = (header: object, claims: object) =>
    `${Buffer.from(JSON.stringify(header)).toString('base64url')}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.`;

  test('decodes an attestation result, says it did not verify it, and shows times', async () => {
    const { attestation } = await agent.attest();
    const run = await mandate(['token', 'inspect', attestation], null);
    assert.equal(run.exitCode, 0, run.err);
    assert.match(run.out, /^NOT VERIFIED: decoded only\./);
    assert.match(run.out, /^kind: attestation result$/m);
    assert.match(run.out, /^ {2}typ +attestation-result\+jwt$/m);
    assert.match(run.out, new RegExp(`^ {2}sub +${agentId}$`, 'm'));
    assert.match(run.out, /^ {2}attestors\.code-digest\.status +warning$/m);
    assert.match(run.out, /^ {2}exp +\d+ \(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ, in \d+m \d+s\)$/m);
    assert.equal((JSON.parse((await mandate(['token', 'inspect', attestation, '--json'], null)).out) as { verified: boolean }).verified, false);
  });

  test('an expired token is shown as expired; control characters never reach the terminal', async () => {
    const run = await mandate(['token', 'inspect', unsigned({ alg: 'ES256', typ: 'at+jwt' }, { sub: 'usr_\u001b[31mred', exp: 1_000_000_000 })], null);
    assert.equal(run.exitCode, 0, run.err);
    assert.match(run.out, /^kind: access token \(RFC 9068\)$/m);
    assert.match(run.out, /^ {2}exp +1000000000 \(2001-09-09T01:46:40Z, expired \d+h \d+m ago\)$/m);
    assert.match(run.out, /^ {2}sub +usr_\?\[31mred$/m);
  });

  test('input that is not a compact JWT exits 1 with a code', async () => {
    const run = await mandate(['token', 'inspect', 'not-a-jwt'], null);
    assert.equal(run.exitCode, 1);
    assert.equal(run.err, 'error: ERR_CLI_TOKEN_MALFORMED: not a compact JWS (header.payload.signature in base64url)\n');
  });
});
