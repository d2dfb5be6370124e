import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { AdminRight } from '../src/core/model.ts';
import { json, startTestApp, type TestApp } from './support/app-fixture.ts';
import { runCli } from './support/cli-runner.ts';

/**
 * Console access without a browser (fastify inject): invites and roles through the admin API and
 * the CLI, and the sign-in rejections that need no authenticator. The passkey ceremonies
 * themselves run in real Chromium in console-approval.test.ts.
 */
let t: TestApp;
let offset = 0;
const clock = { now: () => Date.now() + offset, sleep: (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)) };

before(async () => {
  t = await startTestApp({ overrides: { clock } });
});
after(() => t.close());

const origin = () => t.app.console.origin;

async function addHuman(name: string): Promise<string> {
  return json(await t.call('POST', '/admin/v1/humans', { name, email: `${name}@example.com` })).id as string;
}

async function invite(humanId: string): Promise<string> {
  const response = await t.call('POST', `/admin/v1/humans/${humanId}/invites`);
  assert.equal(response.statusCode, 201, response.body);
  return String(json(response).url);
}

const pathOf = (url: string) => new URL(url).pathname;

test('an invite link is returned once, names the console origin, and is stored only hashed', async () => {
  const id = await addHuman('dana');
  const url = await invite(id);
  assert.match(url, new RegExp(`^${origin()}/console/enroll/[A-Za-z0-9_-]{43}$`));
  const page = await t.inject({ method: 'GET', url: pathOf(url) });
  assert.equal(page.statusCode, 200);
  assert.match(page.body, /Create passkey/);
  assert.equal(page.headers['cache-control'], 'no-store');
  const stored = await t.app.store.console.invites.get(url.split('/').pop()!);
  assert.equal(stored, null, 'the token itself is not a key of the store');
});

test('an unknown invite (ERR_INVITE_UNKNOWN)', async () => {
  const page = await t.inject({ method: 'GET', url: `/console/enroll/${'A'.repeat(43)}` });
  assert.equal(page.statusCode, 404);
  assert.match(page.body, /ERR_INVITE_UNKNOWN/);
});

test('a used invite (ERR_INVITE_USED)', async () => {
  const url = await invite(await addHuman('erin'));
  const { sha256 } = await import('../src/services/console-auth.ts');
  assert.ok(await t.app.store.console.invites.consume(sha256(url.split('/').pop()!), clock.now()));
  const page = await t.inject({ method: 'GET', url: pathOf(url) });
  assert.equal(page.statusCode, 409);
  assert.match(page.body, /ERR_INVITE_USED/);
});

test('an expired invite (ERR_INVITE_EXPIRED)', async () => {
  const url = await invite(await addHuman('finn'));
  offset += t.app.config.console.inviteTtl + 1000;
  try {
    const options = await t.inject({ method: 'POST', url: `${pathOf(url)}/options`, headers: { origin: origin(), 'content-type': 'application/json' }, payload: '{}' });
    assert.deepEqual([options.statusCode, json(options).code], [410, 'ERR_INVITE_EXPIRED']);
  } finally {
    offset = 0;
  }
});

test('roles: the bootstrap admin is admin; roles replace; granting admin needs admin (ERR_ADMIN_FORBIDDEN)', async () => {
  assert.deepEqual(json(await t.call('GET', `/admin/v1/humans/${t.admin.id}/roles`)).roles, ['admin']);
  const id = await addHuman('gail');
  assert.deepEqual(json(await t.call('GET', `/admin/v1/humans/${id}/roles`)).roles, []);
  assert.deepEqual(json(await t.call('POST', `/admin/v1/humans/${id}/roles`, { roles: ['owner', 'auditor'] })).roles, ['auditor', 'owner']);
  assert.equal((await t.call('POST', `/admin/v1/humans/${id}/roles`, { roles: ['king'] })).statusCode, 400);
  const manager = await t.app.adminTokens.create({ humanId: id, label: 'hr', rights: ['humans:write'] }, { actor: t.admin.id, requestId: 'req_t', callerRights: ['admin'] });
  const escalate = await t.call('POST', `/admin/v1/humans/${id}/roles`, { roles: ['admin'] }, manager.secret);
  assert.deepEqual([escalate.statusCode, json(escalate).code], [403, 'ERR_ADMIN_FORBIDDEN']);
});

/** A token with only `rights`, of a fresh human (the caller the review found could escalate). */
async function tokenOf(name: string, rights: AdminRight[]): Promise<{ humanId: string; secret: string }> {
  const humanId = await addHuman(name);
  const issued = await t.app.adminTokens.create({ humanId, label: name, rights }, { actor: t.admin.id, requestId: 'req_t', callerRights: ['admin'] });
  return { humanId, secret: issued.secret };
}

test('a humans:write token cannot invite a human who holds admin, by role or by token (ERR_ADMIN_FORBIDDEN)', async () => {
  const writer = await tokenOf('wendy', ['humans:write']);
  const byToken = await t.call('POST', `/admin/v1/humans/${t.admin.id}/invites`, undefined, writer.secret);
  assert.deepEqual([byToken.statusCode, json(byToken).code], [403, 'ERR_ADMIN_FORBIDDEN']);
  assert.match(String(json(byToken).detail), /holds admin/);
  const byRole = await addHuman('rolf');
  assert.equal((await t.call('POST', `/admin/v1/humans/${byRole}/roles`, { roles: ['admin'] })).statusCode, 200);
  const refused = await t.call('POST', `/admin/v1/humans/${byRole}/invites`, undefined, writer.secret);
  assert.deepEqual([refused.statusCode, json(refused).code], [403, 'ERR_ADMIN_FORBIDDEN']);
  assert.equal((await t.call('POST', `/admin/v1/humans/${byRole}/invites`)).statusCode, 201, 'an admin may');
});

test('a humans:write token cannot invite a human who already has a passkey (ERR_ADMIN_FORBIDDEN)', async () => {
  const writer = await tokenOf('willa', ['humans:write']);
  const id = await addHuman('pia');
  assert.equal((await t.call('POST', `/admin/v1/humans/${id}/invites`, undefined, writer.secret)).statusCode, 201, 'first enrolment is allowed');
  await t.app.store.console.passkeys.insert({ credentialId: 'cGlhLXBhc3NrZXk', humanId: id, publicKey: 'AA', counter: 0, transports: [], createdAt: clock.now(), lastUsedAt: null });
  const again = await t.call('POST', `/admin/v1/humans/${id}/invites`, undefined, writer.secret);
  assert.deepEqual([again.statusCode, json(again).code], [403, 'ERR_ADMIN_FORBIDDEN']);
  assert.match(String(json(again).detail), /already has a passkey/);
  assert.equal((await t.call('POST', `/admin/v1/humans/${id}/invites`)).statusCode, 201, 'an admin may');
});

test('a humans:write token cannot grant roles whose rights exceed its own, not even to its own human (ERR_ROLE_RIGHTS_EXCEEDED)', async () => {
  const writer = await tokenOf('walt', ['humans:write']);
  const self = await t.call('POST', `/admin/v1/humans/${writer.humanId}/roles`, { roles: ['owner'] }, writer.secret);
  assert.deepEqual([self.statusCode, json(self).code], [403, 'ERR_ROLE_RIGHTS_EXCEEDED']);
  assert.match(String(json(self).detail), /agents:write/);
  assert.deepEqual(await t.app.console.auth.rolesOf(writer.humanId), []);
  const wider = await tokenOf('wanda', ['humans:write', 'humans:read', 'agents:read', 'mandates:read', 'mandates:decide']);
  const other = await addHuman('otto');
  const granted = await t.call('POST', `/admin/v1/humans/${other}/roles`, { roles: ['approver'] }, wider.secret);
  assert.deepEqual([granted.statusCode, json(granted).roles], [200, ['approver']], 'rights within the caller\'s own are fine');
});

test('a non-admin cannot change the roles of a human who holds admin (ERR_ADMIN_FORBIDDEN)', async () => {
  const writer = await tokenOf('wilma', ['humans:write']);
  const demote = await t.call('POST', `/admin/v1/humans/${t.admin.id}/roles`, { roles: [] }, writer.secret);
  assert.deepEqual([demote.statusCode, json(demote).code], [403, 'ERR_ADMIN_FORBIDDEN']);
  assert.match(String(json(demote).detail), /holds admin/);
});

test('mandate human invite <name> and mandate human roles through the CLI', async () => {
  await addHuman('hugo');
  const url = await t.app.http.listen({ port: 0, host: '127.0.0.1' });
  const dir = join(t.dir, 'cli');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'admin-token'), `${t.adminSecret}\n`, { mode: 0o600 });
  const invited = await runCli(['human', 'invite', 'hugo', '--url', url, '--data', dir]);
  assert.equal(invited.exitCode, 0, invited.err);
  assert.match(invited.out, /url: +http:\/\/localhost:\d+\/console\/enroll\/[A-Za-z0-9_-]{43}/);
  const roles = await runCli(['human', 'roles', 'hugo', 'approver', '--url', url, '--data', dir, '--json']);
  assert.equal(roles.exitCode, 0, roles.err);
  assert.deepEqual(JSON.parse(roles.out).roles, ['approver']);
  const nobody = await runCli(['human', 'invite', 'nobody-by-that-name', '--url', url, '--data', dir]);
  assert.notEqual(nobody.exitCode, 0);
});

/** A sign-in response whose clientDataJSON names `challenge` (no authenticator needed to be refused). */
function fakeAssertion(challenge: string, id = 'bm90LWEtcmVnaXN0ZXJlZC1wYXNza2V5') {
  const clientDataJSON = Buffer.from(JSON.stringify({ type: 'webauthn.get', challenge, origin: origin() })).toString('base64url');
  return { id, rawId: id, type: 'public-key', clientExtensionResults: {}, response: { clientDataJSON, authenticatorData: 'AA', signature: 'AA' } };
}

async function signIn(response: unknown) {
  const reply = await t.inject({ method: 'POST', url: '/console/signin', headers: { origin: origin(), 'content-type': 'application/json' }, payload: JSON.stringify({ response }) });
  return { status: reply.statusCode, code: json(reply).code };
}

async function signInChallenge(): Promise<string> {
  const reply = await t.inject({ method: 'POST', url: '/console/signin/options', headers: { origin: origin(), 'content-type': 'application/json' }, payload: '{}' });
  assert.equal(reply.statusCode, 200, reply.body);
  return String(json(reply).challenge);
}

test('a sign-in with an unregistered passkey (ERR_PASSKEY_UNKNOWN)', async () => {
  assert.deepEqual(await signIn(fakeAssertion(await signInChallenge())), { status: 401, code: 'ERR_PASSKEY_UNKNOWN' });
});

test('a sign-in answering an expired challenge (ERR_PASSKEY_CHALLENGE_EXPIRED)', async () => {
  const challenge = await signInChallenge();
  offset += t.app.config.console.challengeTtl + 1000;
  try {
    assert.deepEqual(await signIn(fakeAssertion(challenge)), { status: 400, code: 'ERR_PASSKEY_CHALLENGE_EXPIRED' });
  } finally {
    offset = 0;
  }
});

test('a sign-in POST from another origin is refused (ERR_CONSOLE_CSRF); pages without a session go to sign-in', async () => {
  const reply = await t.inject({ method: 'POST', url: '/console/signin/options', headers: { origin: 'https://evil.example', 'content-type': 'application/json' }, payload: '{}' });
  assert.deepEqual([reply.statusCode, json(reply).code], [403, 'ERR_CONSOLE_CSRF']);
  const inbox = await t.inject({ method: 'GET', url: '/console/inbox' });
  assert.deepEqual([inbox.statusCode, inbox.headers.location], [303, '/console/signin?next=%2Fconsole%2Finbox']);
  assert.match(String(inbox.headers['content-security-policy']), /frame-ancestors 'none'/);
});

test('disabling a human ends their console session at once', async () => {
  const id = await addHuman('ivan');
  await t.call('POST', `/admin/v1/humans/${id}/roles`, { roles: ['approver'] });
  const cookie = `__Host-mandate_session=${await t.app.console.auth.startSession(id, 'passkey', 'req_t', true)}`;
  assert.equal((await t.inject({ method: 'GET', url: '/console/inbox', headers: { cookie } })).statusCode, 200);
  assert.equal((await t.call('POST', `/admin/v1/humans/${id}/disable`)).statusCode, 200);
  const after = await t.inject({ method: 'GET', url: '/console/inbox', headers: { cookie } });
  assert.equal(after.statusCode, 303, 'sent to sign-in');
});
