import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { startTestApp, type TestApp } from '../../test/support/app-fixture.ts';
import { MandateError } from '../core/errors.ts';
import type { AdminRight } from '../core/model.ts';
import type { TokenActionContext } from './admin-tokens.ts';

let t: TestApp;
let now = 1_800_000_000_000;
let ctx: TokenActionContext;
before(async () => {
  t = await startTestApp({ overrides: { clock: { now: () => now } } });
  ctx = { actor: t.admin.id, requestId: 'req_AAAAAAAAAAAAAAAAAAAAAA', callerRights: ['admin'] };
});
after(() => t.close());

const tokens = () => t.app.adminTokens;
const create = (rights: AdminRight[], overrides: Partial<TokenActionContext> = {}, humanId = t.admin.id, expiresInMs?: number) =>
  tokens().create({ humanId, label: 'test', rights, ...(expiresInMs ? { expiresInMs } : {}) }, { ...ctx, ...overrides });

async function rejects(promise: Promise<unknown>, code: string, message: RegExp): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof MandateError, String(error));
    assert.equal(error.code, code);
    assert.match(error.message, message);
    return true;
  });
}

test('create returns mat_<id>.<secret> once; only a SHA-256 is stored; the audit event has no secret', async () => {
  const { token, secret } = await create(['humans:read']);
  assert.match(secret, /^mat_[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}$/);
  assert.equal(secret.split('.')[0], token.id);
  assert.equal('secretHash' in token, false);
  const stored = await t.app.store.adminTokens.get(token.id);
  assert.notEqual(stored!.secretHash, secret.split('.')[1]);
  const [event] = await t.app.store.audit.tail(1);
  assert.equal(event!.type, 'admin_token.created');
  assert.doesNotMatch(JSON.stringify(event), new RegExp(secret.split('.')[1]!));
  for (const file of readdirSync(t.app.config.dataDir).filter((name) => name.startsWith('mandate.db')))
    assert.doesNotMatch(readFileSync(join(t.app.config.dataDir, file)).toString('latin1'), new RegExp(secret.split('.')[1]!));
});

test('authenticate returns the token and its human', async () => {
  const { secret, token } = await create(['agents:read']);
  const caller = await tokens().authenticate(secret);
  assert.equal(caller?.token.id, token.id);
  assert.equal(caller?.human.id, t.admin.id);
  assert.equal('secretHash' in caller!.token, false);
});

test('authenticate refuses a wrong secret for a real id', async () => {
  const { secret } = await create(['agents:read']);
  const last = secret.endsWith('A') ? 'B' : 'A';
  assert.equal(await tokens().authenticate(`${secret.slice(0, -2)}${last}A`), null);
});

test('authenticate refuses malformed credentials', async () => {
  const { secret } = await create(['agents:read']);
  for (const bad of ['', secret.toUpperCase(), `${secret}x`, secret.replace('.', ':'), `Bearer ${secret}`]) assert.equal(await tokens().authenticate(bad), null);
});

test('authenticate refuses a revoked token', async () => {
  const { secret, token } = await create(['agents:read']);
  await tokens().revoke(token.id, ctx);
  assert.equal(await tokens().authenticate(secret), null);
});

test('authenticate refuses an expired token', async () => {
  const { secret } = await create(['agents:read'], {}, t.admin.id, 60_000);
  assert.notEqual(await tokens().authenticate(secret), null);
  now += 60_000;
  assert.equal(await tokens().authenticate(secret), null);
});

test('authenticate refuses the token of a disabled human', async () => {
  const human = await t.app.directory.addHuman({ name: 'leaver' }, ctx);
  const { secret } = await create(['agents:read'], {}, human.id);
  await t.app.directory.disableHuman(human.id, ctx);
  assert.equal(await tokens().authenticate(secret), null);
});

test('a caller cannot grant a right it does not hold', () =>
  rejects(create(['agents:write', 'keys:rotate'], { callerRights: ['tokens:manage', 'agents:write'] }), 'ERR_TOKEN_RIGHTS_EXCEEDED', /does not hold: keys:rotate/));
test('a non-admin cannot grant admin', () =>
  rejects(create(['admin'], { callerRights: ['tokens:manage'] }), 'ERR_TOKEN_RIGHTS_EXCEEDED', /does not hold: admin/));
test('a non-admin cannot create a token for another human', async () => {
  const other = await t.app.directory.addHuman({ name: 'other' }, ctx);
  await rejects(create(['tokens:manage'], { callerRights: ['tokens:manage'] }, other.id), 'ERR_ADMIN_FORBIDDEN', /only an admin/);
});
test('no rights', () => rejects(create([]), 'ERR_REQUEST_INVALID_PARAMETER', /non-empty list/));
test('an unknown right', () => rejects(create(['root' as AdminRight]), 'ERR_REQUEST_INVALID_PARAMETER', /non-empty list/));
test('a non-positive expiry', () => rejects(create(['admin'], {}, t.admin.id, -5), 'ERR_REQUEST_INVALID_PARAMETER', /positive duration/));
test('an unknown human', () => rejects(create(['admin'], {}, 'usr_nobody'), 'ERR_HUMAN_NOT_FOUND', /no human/));
test('a disabled human', async () => {
  const human = await t.app.directory.addHuman({ name: 'gone' }, ctx);
  await t.app.directory.disableHuman(human.id, ctx);
  await rejects(create(['admin'], {}, human.id), 'ERR_HUMAN_DISABLED', /disabled/);
});

test('revoke is audited once; revoking again changes nothing', async () => {
  const { token } = await create(['audit:read']);
  const revoked = await tokens().revoke(token.id, ctx);
  assert.equal(revoked.revokedAt, now);
  const seq = (await t.app.store.audit.tail(1))[0]!;
  assert.deepEqual([seq.type, seq.data.token_id], ['admin_token.revoked', token.id]);
  assert.equal((await tokens().revoke(token.id, ctx)).revokedAt, now);
  assert.equal((await t.app.store.audit.tail(1))[0]!.seq, seq.seq);
});
test('revoking an unknown token', () => rejects(tokens().revoke(`mat_${'Q'.repeat(22)}`, ctx), 'ERR_TOKEN_NOT_FOUND', /no admin token/));
test('revoking a malformed id', () => rejects(tokens().revoke('x', ctx), 'ERR_TOKEN_NOT_FOUND', /no admin token x/));

test('list never carries secret hashes', async () => {
  const list = await tokens().list();
  assert.ok(list.length > 0);
  for (const token of list) assert.equal('secretHash' in token, false);
});

test('bootstrap creates a human with an admin token and audits both', async () => {
  const { human, token, secret } = await tokens().bootstrap('second-admin');
  assert.deepEqual(token.rights, ['admin']);
  assert.equal((await tokens().authenticate(secret))?.human.id, human.id);
  const events = await t.app.store.audit.tail(2);
  assert.deepEqual(events.map((e) => e.type), ['human.added', 'admin_token.created']);
  assert.equal(events[0]!.data.bootstrap, true);
});

test('tokens:manage revokes the caller\'s own tokens, but another human\'s only with admin', async () => {
  const bob = await t.app.directory.addHuman({ name: 'Bob' }, ctx);
  const bobs = await create(['humans:read'], {}, bob.id);
  const managerCtx = { ...ctx, callerRights: ['tokens:manage'] as AdminRight[] };
  await rejects(tokens().revoke(bobs.token.id, managerCtx), 'ERR_ADMIN_FORBIDDEN', /only an admin may revoke another human's token/);
  const own = await create(['humans:read']);
  assert.notEqual((await tokens().revoke(own.token.id, managerCtx)).revokedAt, null);
  assert.notEqual((await tokens().revoke(bobs.token.id, ctx)).revokedAt, null, 'an admin may');
});

test('humans:write cannot disable a human who holds the admin right', async () => {
  const carol = await t.app.directory.addHuman({ name: 'Carol' }, ctx);
  await create(['admin'], {}, carol.id);
  const writer = { actor: t.admin.id, requestId: ctx.requestId, callerRights: ['humans:write'] as AdminRight[] };
  await rejects(t.app.directory.disableHuman(carol.id, writer), 'ERR_ADMIN_FORBIDDEN', /only an admin may disable a human who holds the admin right/);
  assert.equal((await t.app.directory.disableHuman(carol.id, ctx)).status, 'disabled', 'an admin may');
});
