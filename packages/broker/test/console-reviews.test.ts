/**
 * Notifications and access reviews in real headless Chromium against the real broker: the inbox
 * badge updates live from GET /console/events (and is announced in a polite live region) when a
 * mandate request arrives, and an owner keeps and revokes due mandates on /console/reviews.
 * axe-core runs on each page.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { BrowserContext, Page } from 'playwright-core';
import { checkAccessibility, launchBrowser, type TestBrowser } from './support/browser.ts';
import { startTestApp, type TestApp } from './support/app-fixture.ts';
import { unusedPort } from './support/cli-runner.ts';
import { createPendingMandate, MANDATE_TEST_CONFIG } from './support/mandate-fixture.ts';

const REQ = 'req_EEEEEEEEEEEEEEEEEEEEEE';
const DAY = 86_400_000;

let t: TestApp;
let base: string;
let offset = 0;
let browser: TestBrowser;
let context: BrowserContext;
let page: Page;
let ownerId: string;

async function activeMandate(): Promise<string> {
  const id = await createPendingMandate(t.app, ownerId, { notAfterSeconds: 3650 * 86_400 });
  await t.app.loop.decisions.approve(id, { method: 'admin_token', proof: {} }, { actor: ownerId, requestId: REQ });
  // The CIBA collect (core-loop tests) needs the agent's DPoP key; the store's transition stands in for it.
  assert.ok(await t.app.store.mandates.transition(id, ['approved'], { status: 'active', grantHash: `grant-${id}` }));
  return id;
}

/**
 * Clicks a form's button and checks the POST-redirect-GET. Chromium recomputes the Cookie header
 * when it follows a redirect (the session travels as an extra header here, see `signIn`), so the
 * test follows the 303 itself.
 */
async function submit(click: () => Promise<void>, location: string): Promise<void> {
  const [response] = await Promise.all([page.waitForResponse((r) => r.request().method() === 'POST'), click()]);
  assert.deepEqual([response.status(), response.headers()['location']], [303, location]);
  assert.equal((await page.goto(base + location))?.status(), 200);
}

async function assertAccessible(p: Page): Promise<void> {
  assert.deepEqual(await checkAccessibility(p), [], `axe on ${p.url()}`);
}

before(async () => {
  const port = await unusedPort();
  base = `http://127.0.0.1:${port}`;
  t = await startTestApp({
    flags: { port: String(port), issuer: base },
    config: { ...MANDATE_TEST_CONFIG, console: { origin: base }, reviews: { reviewEvery: '30d', gracePeriod: '7d' } },
    overrides: { clock: { now: () => Date.now() + offset } },
  });
  await t.app.http.listen({ port, host: '127.0.0.1' });
  const owner = await t.app.directory.addHuman({ name: 'Olivia Owner' }, { actor: t.admin.id, requestId: REQ });
  ownerId = owner.id;
  await t.app.console.auth.setRoles(owner.id, ['owner', 'approver'], { actor: t.admin.id, requestId: REQ, callerRights: ['admin'] });
  browser = await launchBrowser();
  context = await browser.newContext();
  context.setDefaultTimeout(10_000);
  await signIn();
  page = await context.newPage();
});

/** A console session for the owner as of the (moved) clock, without a passkey ceremony (console-auth tests cover those). */
async function signIn(): Promise<void> {
  const session = await t.app.console.auth.startSession(ownerId, 'passkey', REQ, false);
  // CDP cannot set a `__Host-` cookie for an http:// URL; sending it as a header is equivalent here.
  await context.setExtraHTTPHeaders({ cookie: `__Host-mandate_session=${session}` });
}
after(async () => {
  await browser?.close();
  await t?.close();
});

test('the inbox badge counts up live when a request arrives, and the live region announces it', async () => {
  await page.goto(`${base}/console/inbox`);
  const badge = page.locator('#inbox-badge');
  const before = Number((await badge.textContent()) ?? '0');
  // The stream is open once its first `unread` event has reached the badge (notifications.js labels it then).
  await page.locator('#inbox-badge[aria-label]').waitFor({ state: 'attached' });
  await createPendingMandate(t.app, ownerId);
  await page.waitForFunction((n) => document.getElementById('inbox-badge')?.textContent === String(n), before + 1);
  assert.equal(await badge.isVisible(), true);
  assert.match((await page.locator('#live-announcer').textContent()) ?? '', /asks for a mandate/);
  assert.equal(await page.locator('#live-announcer').getAttribute('aria-live'), 'polite');
  await assertAccessible(page);
});

test('an owner keeps a due mandate and revokes another through the confirm page', async () => {
  const [kept, revoked] = [await activeMandate(), await activeMandate()];
  offset += 31 * DAY;
  await signIn();
  const shown = await page.goto(`${base}/console/reviews`);
  assert.equal(shown?.status(), 200, await shown?.text());
  await assertAccessible(page);
  const rowOf = (id: string) => page.locator('tr', { has: page.locator(`a[href="/console/mandates/${id}"]`) });
  assert.match((await rowOf(kept).textContent()) ?? '', /due/);
  await submit(() => rowOf(kept).getByRole('button', { name: 'Keep' }).click(), '/console/reviews?done=kept');
  assert.match((await page.locator('main').textContent()) ?? '', /Kept\./);
  assert.match((await rowOf(kept).textContent()) ?? '', /upcoming/);
  await rowOf(revoked).getByRole('link', { name: 'Revoke' }).click();
  await page.waitForURL(/\/revoke$/);
  await assertAccessible(page);
  await submit(() => page.getByRole('button', { name: 'Revoke' }).click(), '/console/reviews?done=revoked');
  assert.equal((await t.app.loop.decisions.get(revoked)).status, 'revoked');
  assert.equal(await rowOf(revoked).count(), 0);
  const reviewed = (await t.app.store.audit.byMandate(kept, 50)).find((e) => e.type === 'mandate.reviewed');
  assert.deepEqual([reviewed?.actor, reviewed?.data.decision], [ownerId, 'keep']);
});

test('the revoke confirm page shows a mandate only to an owner of its agent or an admin (ERR_REVIEW_NOT_OWNER)', async () => {
  const id = await activeMandate();
  const other = await t.app.directory.addHuman({ name: 'Oscar Other' }, { actor: t.admin.id, requestId: REQ });
  await t.app.console.auth.setRoles(other.id, ['owner'], { actor: t.admin.id, requestId: REQ, callerRights: ['admin'] });
  const asOf = async (humanId: string) => {
    const cookie = `__Host-mandate_session=${await t.app.console.auth.startSession(humanId, 'passkey', REQ, false)}`;
    return t.app.http.inject({ method: 'GET', url: `/console/reviews/${id}/revoke`, headers: { cookie } });
  };
  const refused = await asOf(other.id);
  assert.equal(refused.statusCode, 403);
  assert.match(refused.body, /ERR_REVIEW_NOT_OWNER/);
  assert.doesNotMatch(refused.body, /Read the items/, 'the mandate\'s task is not shown');
  const owner = await asOf(ownerId);
  assert.equal(owner.statusCode, 200);
  assert.match(owner.body, /Read the items/);
});
