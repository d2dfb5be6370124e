import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { json, startTestApp, type TestApp } from './support/app-fixture.ts';
import { createPendingMandate, MANDATE_TEST_CONFIG } from './support/mandate-fixture.ts';
import { assertFamilyError } from './support/wire-asserts.ts';

/** The mandate routes of the admin API: listing, showing and the decisions' rejections (docs/admin-api.md). */

let t: TestApp;
let offset = 0;
let bob: { id: string; secret: string };
before(async () => {
  t = await startTestApp({ config: MANDATE_TEST_CONFIG, overrides: { clock: { now: () => Date.now() + offset } } });
  const human = await t.app.directory.addHuman({ name: 'bob' }, { actor: t.admin.id, requestId: 'req_AAAAAAAAAAAAAAAAAAAAAA' });
  const issued = await t.app.adminTokens.create({ humanId: human.id, label: 'bob', rights: ['mandates:decide'] }, { actor: t.admin.id, requestId: 'req_AAAAAAAAAAAAAAAAAAAAAA', callerRights: ['admin'] });
  bob = { id: human.id, secret: issued.secret };
});
after(() => t.close());

const pending = () => createPendingMandate(t.app, t.admin.id);
const ids = (response: { body: string }) => (json(response as never).mandates as Array<{ id: string }>).map((m) => m.id);

describe('listing and showing', () => {
  test('status, agent and approver filter the list, newest first', async () => {
    const [older, newer] = [await pending(), await pending()];
    const listed = ids(await t.call('GET', `/admin/v1/mandates?status=pending&approver=${t.admin.id}`));
    assert.ok(listed.indexOf(newer) < listed.indexOf(older) && listed.indexOf(older) >= 0, JSON.stringify(listed));
    const agentId = (await t.app.loop.decisions.get(newer)).agentId;
    assert.deepEqual(ids(await t.call('GET', `/admin/v1/mandates?agent=${agentId}`)), [newer]);
    assert.deepEqual(ids(await t.call('GET', `/admin/v1/mandates?approver=${bob.id}`)), []);
  });
  test('a request past its expiry lists as expired, not pending', async () => {
    const id = await createPendingMandate(t.app, t.admin.id, { requestedExpiry: '5' });
    offset += 6_000;
    assert.ok(!ids(await t.call('GET', '/admin/v1/mandates?status=pending')).includes(id));
    assert.ok(ids(await t.call('GET', '/admin/v1/mandates?status=expired')).includes(id));
    const shown = json(await t.call('GET', `/admin/v1/mandates/${id}`));
    assert.equal(shown.status, 'expired');
  });
  test('show: the task document, no credentials yet, and the audit trail', async () => {
    const id = await pending();
    const shown = json(await t.call('GET', `/admin/v1/mandates/${id}`));
    assert.equal(shown.status, 'pending');
    assert.equal((shown.task_document as { audience: string }).audience, 'https://api.example.com');
    assert.deepEqual(shown.credentials, []);
    assert.deepEqual((shown.audit as Array<{ type: string }>).map((e) => e.type), ['mandate.requested']);
  });
  test('an unknown status filter (ERR_REQUEST_INVALID_PARAMETER)', async () => {
    assertFamilyError(await t.call('GET', '/admin/v1/mandates?status=happy'), 'admin', 400, 'ERR_REQUEST_INVALID_PARAMETER');
  });
  test('an unknown mandate (ERR_MANDATE_NOT_FOUND)', async () => {
    const body = assertFamilyError(await t.call('GET', '/admin/v1/mandates/mdt_QQQQQQQQQQQQQQQQQQQQQQ'), 'admin', 404, 'ERR_MANDATE_NOT_FOUND');
    assert.equal(body.detail, 'no mandate mdt_QQQQQQQQQQQQQQQQQQQQQQ');
  });
});

describe('decisions', () => {
  test('approving: 200, recorded as an admin-token approval by the approver', async () => {
    const id = await pending();
    const response = await t.call('POST', `/admin/v1/mandates/${id}/approve`);
    assert.equal(response.statusCode, 200, response.body);
    const body = json(response);
    assert.equal(body.status, 'approved');
    assert.equal((body.approval as { approved_by: string }).approved_by, t.admin.id);
    assert.equal((body.approval as { method: string }).method, 'admin_token');
  });
  test('a human who is not the named approver may not decide (ERR_MANDATE_NOT_APPROVER)', async () => {
    const id = await pending();
    const body = assertFamilyError(await t.call('POST', `/admin/v1/mandates/${id}/approve`, undefined, bob.secret), 'admin', 403, 'ERR_MANDATE_NOT_APPROVER');
    assert.equal(body.detail, 'only the human named in the request may decide it');
    assertFamilyError(await t.call('POST', `/admin/v1/mandates/${id}/deny`, undefined, bob.secret), 'admin', 403, 'ERR_MANDATE_NOT_APPROVER');
  });
  test('approving twice (ERR_MANDATE_STATE)', async () => {
    const id = await pending();
    assert.equal((await t.call('POST', `/admin/v1/mandates/${id}/approve`)).statusCode, 200);
    const body = assertFamilyError(await t.call('POST', `/admin/v1/mandates/${id}/approve`), 'admin', 409, 'ERR_MANDATE_STATE');
    assert.equal(body.detail, 'the mandate is approved');
  });
  test('approving a denied mandate', async () => {
    const id = await pending();
    assert.equal(json(await t.call('POST', `/admin/v1/mandates/${id}/deny`)).status, 'denied');
    assertFamilyError(await t.call('POST', `/admin/v1/mandates/${id}/approve`), 'admin', 409, 'ERR_MANDATE_STATE');
  });
  test('approving a request that expired', async () => {
    const id = await createPendingMandate(t.app, t.admin.id, { requestedExpiry: '5' });
    offset += 6_000;
    const body = assertFamilyError(await t.call('POST', `/admin/v1/mandates/${id}/approve`), 'admin', 409, 'ERR_MANDATE_STATE');
    assert.equal(body.detail, 'the mandate is expired');
  });
  test('revoking needs a reason (ERR_REQUEST_MISSING_PARAMETER)', async () => {
    const id = await pending();
    assertFamilyError(await t.call('POST', `/admin/v1/mandates/${id}/revoke`, {}), 'admin', 400, 'ERR_REQUEST_MISSING_PARAMETER');
  });
  test('a reason with control characters', async () => {
    const id = await pending();
    assertFamilyError(await t.call('POST', `/admin/v1/mandates/${id}/revoke`, { reason: 'a\nb' }), 'admin', 400, 'ERR_REQUEST_INVALID_PARAMETER');
  });
  test('revoking a pending mandate, then again (ERR_MANDATE_STATE)', async () => {
    const id = await pending();
    const revoked = json(await t.call('POST', `/admin/v1/mandates/${id}/revoke`, { reason: 'not needed' }));
    assert.equal(revoked.status, 'revoked');
    assert.equal(revoked.end_reason, 'not needed');
    const body = assertFamilyError(await t.call('POST', `/admin/v1/mandates/${id}/revoke`, { reason: 'again' }), 'admin', 409, 'ERR_MANDATE_STATE');
    assert.equal(body.detail, 'the mandate is revoked');
  });
});
