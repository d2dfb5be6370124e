import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { json, startTestApp, type TestApp } from './support/app-fixture.ts';
import { runCli, unusedPort } from './support/cli-runner.ts';
import { createPendingMandate, MANDATE_TEST_CONFIG } from './support/mandate-fixture.ts';
import { assertFamilyError } from './support/wire-asserts.ts';
import { aCredential, aMandate } from '../src/store/conformance/records.ts';

/**
 * Access reviews (docs/reviews.md): the due list, keep, revoke, who may review, and the sweep that
 * reminds owners and suspends overdue mandates, on the real app and store with an injected clock.
 */
const DAY = 86_400_000;
const REQ = 'req_AAAAAAAAAAAAAAAAAAAAAA';

let t: TestApp;
let url: string;
let offset = 0;
let owner: { id: string; secret: string };
let stranger: { id: string; secret: string };

async function addHuman(name: string, rights: string[]): Promise<{ id: string; secret: string }> {
  const human = await t.app.directory.addHuman({ name }, { actor: t.admin.id, requestId: REQ });
  const issued = await t.app.adminTokens.create({ humanId: human.id, label: name, rights: rights as never }, { actor: t.admin.id, requestId: REQ, callerRights: ['admin'] });
  return { id: human.id, secret: issued.secret };
}

/**
 * An active mandate of a fresh agent owned (and approved) by `owner`: asked and approved through
 * the services; the CIBA collect that makes it active needs the agent's DPoP key (core-loop tests
 * cover it), so the store's conditional transition stands in for it here.
 */
async function activeMandate(): Promise<string> {
  const id = await createPendingMandate(t.app, owner.id, { notAfterSeconds: 3650 * 86_400 });
  await t.app.loop.decisions.approve(id, { method: 'admin_token', proof: {} }, { actor: owner.id, requestId: REQ });
  assert.ok(await t.app.store.mandates.transition(id, ['approved'], { status: 'active', grantHash: `grant-${id}` }));
  return id;
}

let children = 0;

/** An active mandate with one token, a mandate delegated below it and one below that (sub-grant hops), each with one token. */
async function mandateWithChildAndTokens(): Promise<{ id: string; childId: string; grandchildId: string }> {
  const id = await activeMandate();
  const parent = (await t.app.store.mandates.get(id))!;
  const expiresAt = Date.now() + offset + 3650 * DAY;
  await t.app.store.credentials.insert(aCredential(`jti-${id}`, parent.agentId, id, { expiresAt }));
  const below: string[] = [];
  for (const depth of [1, 2]) {
    children += 1;
    const child = aMandate(900_000 + children, parent.agentId, parent.approverId, { status: 'active', hop: { parentId: below.at(-1) ?? id, depth, subGrantHash: `sub-grant-${children}` } });
    assert.ok(await t.app.store.mandates.insertChild(child, null));
    await t.app.store.credentials.insert(aCredential(`jti-${child.id}`, parent.agentId, child.id, { expiresAt }));
    below.push(child.id);
  }
  return { id, childId: below[0]!, grandchildId: below[1]! };
}

/** Whether the token of each mandate is revoked. */
const revokedTokens = async (...mandateIds: string[]) =>
  Promise.all(mandateIds.map(async (m) => (await t.app.store.credentials.listByMandate(m)).every((c) => c.revokedAt !== null)));

const reviewIds = (response: { body: string }) => (json(response as never).reviews as Array<{ mandate_id: string }>).map((r) => r.mandate_id);
const auditOf = async (id: string) => (await t.app.store.audit.byMandate(id, 100)).map((e) => ({ type: e.type, actor: e.actor, data: e.data }));
const inbox = async (humanId: string, kind: string) => (await t.app.notifications.list(humanId, { limit: 100 })).filter((n) => n.kind === kind);

before(async () => {
  const port = await unusedPort();
  url = `http://127.0.0.1:${port}`;
  t = await startTestApp({
    flags: { port: String(port), issuer: url },
    config: { ...MANDATE_TEST_CONFIG, reviews: { reviewEvery: '30d', gracePeriod: '7d' } },
    overrides: { clock: { now: () => Date.now() + offset } },
  });
  await t.app.http.listen({ port, host: '127.0.0.1' });
  owner = await addHuman('olivia', ['mandates:read', 'mandates:decide', 'mandates:review']);
  stranger = await addHuman('sam', ['mandates:read', 'mandates:review']);
});
after(() => t.close());

describe('the due list', () => {
  test('an active mandate is due reviewEvery after its approval; owners see their agents only, admins all', async () => {
    const id = await activeMandate();
    const upcoming = json(await t.call('GET', '/admin/v1/reviews', undefined, owner.secret));
    const mine = (upcoming.reviews as Array<Record<string, unknown>>).find((r) => r.mandate_id === id)!;
    assert.equal(upcoming.enabled, true);
    assert.equal(mine.due, false);
    assert.equal(Date.parse(mine.suspends_at as string) - Date.parse(mine.due_at as string), 7 * DAY);
    assert.ok(!reviewIds(await t.call('GET', '/admin/v1/reviews?due=true', undefined, owner.secret)).includes(id), 'not due yet');
    offset += 31 * DAY;
    assert.ok(reviewIds(await t.call('GET', '/admin/v1/reviews?due=true', undefined, owner.secret)).includes(id));
    assert.ok(!reviewIds(await t.call('GET', '/admin/v1/reviews?due=true', undefined, stranger.secret)).includes(id), 'not the stranger\'s agent');
    assert.ok(reviewIds(await t.call('GET', '/admin/v1/reviews?due=true&all=true')).includes(id), 'admins list every review');
  });
  test('listing every review needs the admin right (ERR_ADMIN_FORBIDDEN)', async () => {
    assertFamilyError(await t.call('GET', '/admin/v1/reviews?all=true', undefined, owner.secret), 'admin', 403, 'ERR_ADMIN_FORBIDDEN');
  });
  test('an unknown due flag (ERR_REQUEST_INVALID_PARAMETER)', async () => {
    assertFamilyError(await t.call('GET', '/admin/v1/reviews?due=yes', undefined, owner.secret), 'admin', 400, 'ERR_REQUEST_INVALID_PARAMETER');
  });
});

describe('reviewing', () => {
  test('keep: audited as mandate.reviewed with the reviewer, next due reviewEvery from now, off the due list', async () => {
    const id = await activeMandate();
    offset += 31 * DAY;
    const response = await t.call('POST', `/admin/v1/mandates/${id}/review`, { decision: 'keep', note: 'still needed' }, owner.secret);
    assert.equal(response.statusCode, 200, response.body);
    const body = json(response) as { mandate: { status: string }; review: { due_at: string; last_decision: string; last_reviewed_by: string } };
    assert.equal(body.mandate.status, 'active');
    assert.deepEqual([body.review.last_decision, body.review.last_reviewed_by], ['keep', owner.id]);
    assert.ok(Math.abs(Date.parse(body.review.due_at) - (Date.now() + offset + 30 * DAY)) < 60_000);
    const reviewed = (await auditOf(id)).find((e) => e.type === 'mandate.reviewed')!;
    assert.equal(reviewed.actor, owner.id);
    assert.deepEqual([reviewed.data.decision, reviewed.data.reviewer, reviewed.data.note], ['keep', owner.id, 'still needed']);
    assert.ok(!reviewIds(await t.call('GET', '/admin/v1/reviews?due=true', undefined, owner.secret)).includes(id));
  });
  test('revoke: the mandate is revoked (reason review_revoked) after the audited review', async () => {
    const id = await activeMandate();
    const response = await t.call('POST', `/admin/v1/mandates/${id}/review`, { decision: 'revoke' }, owner.secret);
    assert.equal(response.statusCode, 200, response.body);
    const mandate = (json(response) as { mandate: { status: string; end_reason: string } }).mandate;
    assert.deepEqual([mandate.status, mandate.end_reason], ['revoked', 'review_revoked']);
    const types = (await auditOf(id)).map((e) => e.type);
    assert.ok(types.indexOf('mandate.reviewed') < types.indexOf('mandate.revoked') && types.includes('mandate.revoked'), types.join());
  });
  test('an admin may review any mandate', async () => {
    const id = await activeMandate();
    assert.equal((await t.call('POST', `/admin/v1/mandates/${id}/review`, { decision: 'keep' })).statusCode, 200);
  });
  test('a human who does not own the agent is refused (ERR_REVIEW_NOT_OWNER)', async () => {
    const id = await activeMandate();
    const body = assertFamilyError(await t.call('POST', `/admin/v1/mandates/${id}/review`, { decision: 'revoke' }, stranger.secret), 'admin', 403, 'ERR_REVIEW_NOT_OWNER');
    assert.equal(body.detail, 'only an owner of the mandate\'s agent (or an admin) may review it');
    assert.equal((await t.app.loop.decisions.get(id)).status, 'active');
  });
  test('a mandate that is not active cannot be reviewed (ERR_MANDATE_STATE)', async () => {
    const id = await createPendingMandate(t.app, owner.id, { notAfterSeconds: 3650 * 86_400 });
    const body = assertFamilyError(await t.call('POST', `/admin/v1/mandates/${id}/review`, { decision: 'keep' }, owner.secret), 'admin', 409, 'ERR_MANDATE_STATE');
    assert.equal(body.detail, 'the mandate is pending');
  });
  test('a decision other than keep or revoke (ERR_REQUEST_INVALID_PARAMETER)', async () => {
    const id = await activeMandate();
    assertFamilyError(await t.call('POST', `/admin/v1/mandates/${id}/review`, { decision: 'maybe' }, owner.secret), 'admin', 400, 'ERR_REQUEST_INVALID_PARAMETER');
  });
  test('an unknown mandate (ERR_MANDATE_NOT_FOUND)', async () => {
    assertFamilyError(await t.call('POST', '/admin/v1/mandates/mdt_QQQQQQQQQQQQQQQQQQQQQQ/review', { decision: 'keep' }, owner.secret), 'admin', 404, 'ERR_MANDATE_NOT_FOUND');
  });
});

describe('the sweep', () => {
  test('reminds the owners once when due, then suspends past the grace period (review_overdue), tokens revoked, owners told', async () => {
    const id = await activeMandate();
    await t.app.reviews.sweep();
    offset += 30 * DAY + 1000;
    await t.app.reviews.sweep();
    await t.app.reviews.sweep();
    const reminders = (await inbox(owner.id, 'review.due')).filter((n) => n.payload.mandate_id === id);
    assert.equal(reminders.length, 1, 'one reminder per due date');
    assert.equal((await t.app.loop.decisions.get(id)).status, 'active', 'within the grace period');
    offset += 7 * DAY;
    const swept = await t.app.reviews.sweep();
    assert.ok(swept.suspended >= 1);
    const mandate = await t.app.loop.decisions.get(id);
    assert.deepEqual([mandate.status, mandate.endReason], ['suspended', 'review_overdue']);
    const suspended = (await auditOf(id)).find((e) => e.type === 'mandate.suspended')!;
    assert.deepEqual([suspended.actor, suspended.data.reason, suspended.data.by], [null, 'review_overdue', 'review_sweep']);
    assert.equal((await inbox(owner.id, 'mandate.suspended')).filter((n) => n.payload.mandate_id === id).length, 1);
    // PROTOCOL §8: only the approver's passkey resumes it; a review no longer applies.
    assertFamilyError(await t.call('POST', `/admin/v1/mandates/${id}/review`, { decision: 'keep' }, owner.secret), 'admin', 409, 'ERR_MANDATE_STATE');
  });
  test('a resume by the approver after the suspension counts as the review: the next sweep leaves the mandate active', async () => {
    const id = await activeMandate();
    offset += 38 * DAY;
    await t.app.reviews.sweep();
    assert.equal((await t.app.loop.decisions.get(id)).status, 'suspended');
    // Stands in for the console's resume (passkey + attestation, console-auth tests): the same audit event and move.
    await t.app.audit.record({ type: 'mandate.resumed', actor: owner.id, approver: owner.id, mandateId: id, requestId: REQ });
    assert.ok(await t.app.store.mandates.transition(id, ['suspended'], { status: 'active', endReason: null }));
    await t.app.reviews.sweep();
    assert.equal((await t.app.loop.decisions.get(id)).status, 'active');
    const review = json(await t.call('GET', '/admin/v1/reviews', undefined, owner.secret)).reviews as Array<Record<string, unknown>>;
    const mine = review.find((r) => r.mandate_id === id)!;
    assert.deepEqual([mine.due, mine.last_decision, mine.last_reviewed_by], [false, 'keep', owner.id]);
  });
  test('one commit: the suspension, its tokens and those of the mandates below it at every depth, the change for replicas and the push, the audit event', async () => {
    const { id, childId, grandchildId } = await mandateWithChildAndTokens();
    offset += 38 * DAY;
    await t.app.reviews.sweep();
    assert.equal((await t.app.loop.decisions.get(id)).status, 'suspended');
    assert.deepEqual(await revokedTokens(id, childId, grandchildId), [true, true, true]);
    const changes = (await t.app.store.changes.since(0, 10_000)).filter((c) => c.key === id);
    assert.deepEqual(changes.map((c) => c.topic), ['mandate.suspended']);
    const events = (await auditOf(id)).filter((e) => e.type === 'mandate.suspended');
    assert.deepEqual(events.map((e) => e.data.credentials_revoked), [3]);
  });
  test('a failed commit suspends nothing and revokes nothing: the mandate stays active and due, and the next sweep suspends it', async () => {
    const { id, childId, grandchildId } = await mandateWithChildAndTokens();
    offset += 38 * DAY;
    const { changes } = t.app.store;
    const commit = changes.commitRevocation!;
    changes.commitRevocation = async () => { throw new Error('store down'); };
    try {
      await assert.rejects(t.app.reviews.sweep(), /could not commit/);
    } finally {
      changes.commitRevocation = commit;
    }
    assert.equal((await t.app.loop.decisions.get(id)).status, 'active');
    assert.deepEqual(await revokedTokens(id, childId, grandchildId), [false, false, false]);
    assert.deepEqual((await auditOf(id)).filter((e) => e.type === 'mandate.suspended'), []);
    await t.app.reviews.sweep();
    assert.equal((await t.app.loop.decisions.get(id)).status, 'suspended');
    assert.deepEqual(await revokedTokens(id, childId, grandchildId), [true, true, true]);
  });
  test('a review whose suspension fails does not hold back the ones after it; the sweep then fails with that error', async () => {
    const first = await mandateWithChildAndTokens();
    const second = await mandateWithChildAndTokens();
    offset += 38 * DAY;
    const { changes } = t.app.store;
    const commit = changes.commitRevocation!;
    // Whichever of the two the sweep reaches first fails; the other must still be suspended.
    const ours = new Set([first.id, second.id]);
    let failed: string | null = null;
    changes.commitRevocation = async (write, ...rest) => {
      if (write.mandate && ours.has(write.mandate.id) && (failed === null || failed === write.mandate.id)) {
        failed = write.mandate.id;
        throw new Error('store down');
      }
      return commit(write, ...rest);
    };
    try {
      await assert.rejects(t.app.reviews.sweep(), /could not commit/);
    } finally {
      changes.commitRevocation = commit;
    }
    const other = failed === first.id ? second : first;
    assert.ok(failed !== null);
    assert.equal((await t.app.loop.decisions.get(failed)).status, 'active');
    assert.equal((await t.app.loop.decisions.get(other.id)).status, 'suspended');
    assert.deepEqual(await revokedTokens(other.id, other.childId, other.grandchildId), [true, true, true]);
  });
  test('a kept mandate is not suspended at the old due date', async () => {
    const id = await activeMandate();
    offset += 31 * DAY;
    assert.equal((await t.call('POST', `/admin/v1/mandates/${id}/review`, { decision: 'keep' }, owner.secret)).statusCode, 200);
    offset += 8 * DAY;
    await t.app.reviews.sweep();
    assert.equal((await t.app.loop.decisions.get(id)).status, 'active');
  });
});

describe('mandate review (CLI)', () => {
  const cli = (args: string[], secret = owner.secret) => runCli([...args, '--url', url], { MANDATE_ADMIN_TOKEN: secret });
  test('lists what is due for the caller, then keeps one', async () => {
    const id = await activeMandate();
    offset += 31 * DAY;
    const listed = await cli(['review']);
    assert.equal(listed.exitCode, 0, listed.err + listed.out);
    assert.match(listed.out, new RegExp(`${id}\\s+\\S+\\s+\\S+\\s+\\S+\\s+due`));
    const kept = await cli(['review', id, '--keep', '--note', 'reviewed in the CLI']);
    assert.equal(kept.exitCode, 0, kept.err);
    assert.match(kept.out, /decision:\s+keep/);
    assert.doesNotMatch((await cli(['review'])).out, new RegExp(id));
  });
  test('--revoke, and --all for admins only', async () => {
    const id = await activeMandate();
    const revoked = await cli(['review', id, '--revoke']);
    assert.equal(revoked.exitCode, 0, revoked.err);
    assert.match(revoked.out, /status:\s+revoked/);
    const refused = await cli(['review', '--all']);
    assert.equal(refused.exitCode, 1);
    assert.match(refused.err, /ERR_ADMIN_FORBIDDEN/);
    assert.equal((await cli(['review', '--all'], t.adminSecret)).exitCode, 0);
  });
  test('usage: exactly one of --keep or --revoke with an id', async () => {
    const both = await cli(['review', 'mdt_x', '--keep', '--revoke']);
    assert.equal(both.exitCode, 2);
    assert.match(both.err, /exactly one of --keep or --revoke/);
    assert.equal((await cli(['review', '--keep'])).exitCode, 2);
  });
});

describe('reviews switched off', () => {
  test('reviewEvery off: nothing is listed and a review is refused (ERR_REVIEW_DISABLED)', async () => {
    const off = await startTestApp({ config: { ...MANDATE_TEST_CONFIG, reviews: { reviewEvery: 'off' } } });
    try {
      const listing = json(await off.call('GET', '/admin/v1/reviews'));
      assert.deepEqual([listing.enabled, listing.reviews], [false, []]);
      const id = await createPendingMandate(off.app, off.admin.id);
      assertFamilyError(await off.call('POST', `/admin/v1/mandates/${id}/review`, { decision: 'keep' }), 'admin', 409, 'ERR_REVIEW_DISABLED');
      assert.deepEqual(await off.app.reviews.sweep(), { scheduled: 0, reminded: 0, suspended: 0 });
    } finally {
      await off.close();
    }
  });
});
