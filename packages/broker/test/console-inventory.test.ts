/**
 * The console's inventory pages in real headless Chromium against the real broker: sign in with a
 * passkey (virtual authenticator), approve with the keyboard only, read the agent, mandate and audit
 * pages, revoke a credential and a mandate and suspend an agent through confirm pages, and see the
 * agent's next call fail through the SDK. axe-core runs on every page; screenshots for docs/ are
 * written when MANDATE_SCREENSHOTS=1 (`npm run docs:screenshots`).
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { OAuthResponseError, type AgentClient } from '@mandate/sdk';
import { decodeJwt } from 'jose';
import type { BrowserContext, Page } from 'playwright-core';
import type { Human } from '../src/core/model.ts';
import type { ConsoleRole } from '../src/core/roles.ts';
import { addVirtualAuthenticator, checkAccessibility, launchBrowser, screenshot, type TestBrowser } from './support/browser.ts';
import { API, startLoopFixture, startResourceServer, type LoopAgent, type LoopFixture, type ResourceServer } from './support/loop-fixture.ts';

const SHOTS = join(import.meta.dirname, '..', '..', '..', 'docs', 'console');
const SESSION_COOKIE = '__Host-mandate_session';

let fx: LoopFixture;
let rs: ResourceServer;
let browser: TestBrowser;
let context: BrowserContext;
let page: Page;
let origin: string;
const ctx = () => ({ actor: fx.admin.id, requestId: 'req_CCCCCCCCCCCCCCCCCCCCCC', callerRights: ['admin' as const] });

before(async () => {
  fx = await startLoopFixture();
  rs = await startResourceServer(fx);
  origin = fx.app.console.origin;
  browser = await launchBrowser();
  context = await browser.newContext();
  context.setDefaultTimeout(10_000);
  page = await context.newPage();
});
after(async () => {
  await browser?.close();
  await rs?.close();
  await fx?.close();
});

/** Every page the tests visit is checked: zero serious or critical axe violations. */
async function assertAccessible(p: Page = page): Promise<void> {
  const violations = await checkAccessibility(p);
  assert.deepEqual(violations, [], `axe on ${p.url()}: ${JSON.stringify(violations, null, 2)}`);
}

/** Opens a console page (200 expected); axe runs unless the same page was checked already (`axe: false`). */
async function visit(path: string, p: Page = page, options: { axe?: boolean } = {}): Promise<void> {
  const response = await p.goto(origin + path);
  assert.equal(response?.status(), 200, `${path}: ${await response?.text()}`);
  if (options.axe !== false) await assertAccessible(p);
}

/** A signed-in browser context for `human` with `roles`, without a ceremony (for the rejection paths). */
async function sessionContext(human: Human, roles: ConsoleRole[]): Promise<Page> {
  await fx.app.console.auth.setRoles(human.id, roles, ctx());
  const value = await fx.app.console.auth.startSession(human.id, 'passkey', 'req_DDDDDDDDDDDDDDDDDDDDDD', false);
  const other = await browser.newContext();
  other.setDefaultTimeout(10_000);
  // CDP cannot set a `__Host-` cookie for an http:// URL; sending it as a header is equivalent here.
  await other.setExtraHTTPHeaders({ cookie: `${SESSION_COOKIE}=${value}` });
  return other.newPage();
}

/** A console form POST from `p`'s session (Origin and CSRF token as the page's own form would send them). */
async function postForm(p: Page, path: string, fields: Record<string, string> = {}) {
  const csrf = await p.locator('meta[name="csrf-token"]').getAttribute('content');
  return p.request.post(origin + path, { form: { _csrf: csrf ?? '', ...fields }, headers: { origin }, maxRedirects: 0 });
}

async function askAsAgent(agent: LoopAgent, purpose: string): Promise<{ client: AgentClient; authReqId: string; mandateId: string }> {
  const client = agent.client();
  const { authReqId } = await client.ask({
    loginHint: fx.alice.id, bindingMessage: purpose,
    task: { purpose, audience: API, actions: ['read'], notAfter: new Date(fx.clock.now() + 3600_000) },
  });
  return { client, authReqId, mandateId: await fx.pendingMandateOf(agent.agent.id) };
}

async function callApi(client: AgentClient): Promise<number> {
  const response = await client.fetch(`${rs.url}/items`, { resource: API });
  await response.body?.cancel();
  return response.status;
}

/** Presses Tab until the focused element matches `selector` (fails after `max` presses). */
async function tabTo(selector: string, max = 40): Promise<void> {
  for (let i = 0; i < max; i += 1) {
    await page.keyboard.press('Tab');
    if (await page.evaluate((s) => document.activeElement?.matches(s) ?? false, selector)) return;
  }
  assert.fail(`keyboard focus never reached ${selector}`);
}

let approved: { client: AgentClient; mandateId: string; accessToken: string };

test('sign-in page and enrolment: alice enrols a passkey from her invite and lands in the inbox', async () => {
  await visit('/console/signin');
  await fx.app.console.auth.setRoles(fx.alice.id, ['owner'], ctx());
  const invite = await fx.app.console.auth.createInvite(fx.alice.id, ctx());
  const authenticator = await addVirtualAuthenticator(page);
  await page.goto(invite.url);
  await assertAccessible();
  await page.locator('#passkey-enroll').focus();
  await page.keyboard.press('Enter');
  await page.waitForURL(/\/console\/inbox/);
  assert.equal((await authenticator.credentials()).length, 1, 'the passkey lives in the virtual authenticator');
  const cookie = (await context.cookies()).find((c) => c.name === SESSION_COOKIE);
  assert.ok(cookie && cookie.httpOnly && cookie.secure && cookie.sameSite === 'Strict', JSON.stringify(cookie));
});

test('keyboard only: from the inbox to an approval with the passkey, then the agent gets its token', async () => {
  const asked = await askAsAgent(fx.agent, 'Triage the open issues of the payments repository');
  await askAsAgent(await fx.addAgent({ owners: [fx.alice.id] }), 'Label new support tickets by product area');
  await visit('/console/inbox');
  await screenshot(page, join(SHOTS, 'inbox.png'));
  await tabTo(`a[href="/console/approve/${asked.mandateId}"]`);
  await page.keyboard.press('Enter');
  await page.waitForURL(new RegExp(`/console/approve/${asked.mandateId}$`));
  await assertAccessible();
  await screenshot(page, join(SHOTS, 'approval.png'));
  await tabTo('#passkey-approve');
  await page.keyboard.press('Enter');
  await page.waitForURL(/\/console\/inbox\?done=approved/);
  const { accessToken } = await asked.client.waitForApproval(asked.authReqId, { interval: 0.05, timeoutMs: 10_000 });
  assert.equal(await callApi(asked.client), 200);
  const mandate = await fx.app.loop.decisions.get(asked.mandateId);
  assert.equal(mandate.approval?.method, 'passkey');
  approved = { client: asked.client, mandateId: asked.mandateId, accessToken };
});

test('agent pages: the list, and the agent with owners, status, policy, last attestation per attestor and active mandates', async () => {
  await visit('/console/agents');
  assert.match(await page.locator('main').innerText(), new RegExp(fx.agent.agent.name));
  await visit(`/console/agents/${fx.agent.agent.id}`);
  const main = page.locator('main');
  assert.match(await main.locator('h1').innerText(), new RegExp(fx.agent.agent.name));
  const people = await page.locator('#people').innerText();
  assert.match(people, /alice/);
  assert.match(people, /bob/);
  const attestation = await page.locator('#attestation').innerText();
  assert.match(attestation, /affirming/);
  assert.match(attestation, /oidc-token/);
  assert.match(attestation, /code-digest/);
  assert.equal(await page.locator(`#mandates a[href="/console/mandates/${approved.mandateId}"]`).count(), 1);
  assert.equal(await page.getByRole('link', { name: 'Suspend agent' }).count(), 1, 'alice owns the agent');
  await screenshot(page, join(SHOTS, 'agent.png'));
});

test('mandate page: task, approval record, credentials and audit trail; one credential revoked with confirmation; its next call fails', async () => {
  const minted = await approved.client.mint({ resource: API });
  const jti = String(decodeJwt(minted.accessToken).jti);
  await visit('/console/mandates');
  await visit(`/console/mandates/${approved.mandateId}`);
  assert.match(await page.locator('#approval').innerText(), /with passkey/);
  assert.equal(await page.locator('#credentials tbody tr').count(), 2);
  const trail = await page.locator('#audit').innerText();
  for (const type of ['mandate.requested', 'mandate.approved', 'token.issued']) assert.match(trail, new RegExp(type.replace('.', '\\.')));
  await screenshot(page, join(SHOTS, 'mandate.png'));

  await page.getByRole('link', { name: `Revoke credential ${jti}` }).click();
  await page.waitForURL(new RegExp(`/console/credentials/${jti}/revoke$`));
  await assertAccessible();
  await page.getByRole('button', { name: 'Revoke credential' }).click();
  await page.waitForURL(/\?done=credential_revoked$/);
  await assertAccessible();
  assert.match(await page.getByRole('status').innerText(), /credential is revoked/);
  assert.equal(await callApi(approved.client), 401, 'the revoked token is refused by the resource server');
  assert.equal((await fx.app.loop.decisions.get(approved.mandateId)).status, 'active', 'the mandate itself stays');
});

test('audit page (as an admin): filters by type, mandate, agent, human and time range; findings and reviews pages', async () => {
  const p = await sessionContext(fx.admin, ['admin']);
  await visit('/console/audit', p);
  await screenshot(p, join(SHOTS, 'audit.png'), { fullPage: false });
  await visit('/console/audit?type=token.revoked', p, { axe: false });
  const types = await p.locator('.event-type').allInnerTexts();
  assert.ok(types.length >= 1 && types.every((t) => t === 'token.revoked'), JSON.stringify(types));

  await p.goto(`${origin}/console/audit`);
  await p.getByLabel('Mandate id').fill(approved.mandateId);
  await p.getByLabel('Event type').fill('mandate.approved');
  await p.getByRole('button', { name: 'Apply filters' }).click();
  await p.waitForURL(/mandate=/);
  assert.deepEqual(await p.locator('.event-type').allInnerTexts(), ['mandate.approved']);

  await visit(`/console/audit?agent=${fx.agent.agent.id}&type=mandate.requested`, p, { axe: false });
  assert.equal(await p.locator('.event-type').count(), 1);
  await visit(`/console/audit?human=${fx.alice.id}&type=mandate.approved`, p, { axe: false });
  assert.equal(await p.locator('.event-type').count(), 1);
  const future = new Date(fx.clock.now() + 86_400_000).toISOString().slice(0, 16);
  await visit(`/console/audit?from=${future}`, p, { axe: false });
  assert.match(await p.locator('main').innerText(), /No audit events match/);

  await visit('/console/findings', p);
  await visit('/console/reviews', p);

  const response = await p.goto(`${origin}/console/audit?from=yesterday`);
  assert.equal(response?.status(), 400, 'a malformed filter');
  assert.match(await p.locator('main').innerText(), /ERR_REQUEST_INVALID_PARAMETER/);
  await assertAccessible(p);
  await p.context().close();
});

test('revoke a mandate from the UI with confirmation and a reason; the agent\'s next mint fails', async () => {
  await page.goto(`${origin}/console/mandates/${approved.mandateId}`);
  await page.getByRole('link', { name: 'Revoke mandate' }).click();
  await page.waitForURL(/\/revoke$/);
  await assertAccessible();
  await page.getByLabel(/Reason/).fill('Task finished early');
  await page.getByRole('button', { name: 'Revoke mandate' }).click();
  await page.waitForURL(/\?done=revoked$/);
  assert.match(await page.locator('.page-header').innerText(), /revoked/);
  await assert.rejects(approved.client.mint({ resource: API }), (error: unknown) => {
    assert.ok(error instanceof OAuthResponseError);
    assert.equal(error.mandateError, 'mandate_revoked');
    return true;
  });
  const [event] = await fx.app.store.audit.byMandate(approved.mandateId, 500).then((all) => all.filter((e) => e.type === 'mandate.revoked'));
  assert.equal(event?.actor, fx.alice.id);
  assert.equal(event?.data['reason'], 'Task finished early');
});

test('suspend an agent from the UI with confirmation; its token is refused and it cannot mint', async () => {
  const second = await fx.addAgent({ owners: [fx.alice.id] });
  const asked = await askAsAgent(second, 'Summarise yesterday\'s incidents');
  const decided = await fx.adminApi('POST', `/admin/v1/mandates/${asked.mandateId}/approve`, fx.secrets.alice);
  assert.equal(decided.status, 200);
  await asked.client.waitForApproval(asked.authReqId, { interval: 0.05, timeoutMs: 10_000 });
  assert.equal(await callApi(asked.client), 200);

  await page.goto(`${origin}/console/agents/${second.agent.id}`);
  await page.getByRole('link', { name: 'Suspend agent' }).click();
  await page.waitForURL(/\/suspend$/);
  await assertAccessible();
  await page.getByRole('link', { name: 'Cancel' }).click();
  await page.waitForURL(new RegExp(`/console/agents/${second.agent.id}$`));
  assert.equal((await fx.app.store.agents.get(second.agent.id))?.status, 'active', 'cancel changes nothing');
  await page.getByRole('link', { name: 'Suspend agent' }).click();
  await page.getByRole('button', { name: 'Suspend agent' }).click();
  await page.waitForURL(/\?done=suspended$/);
  assert.match(await page.locator('.page-header').innerText(), /suspended/);
  assert.equal(await callApi(asked.client), 401);
  await assert.rejects(asked.client.mint({ resource: API }));
});

test('a human who does not answer for the agent cannot suspend it: ERR_CONSOLE_NOT_RESPONSIBLE', async () => {
  const { human: carol } = await fx.addHuman('carol');
  const carolPage = await sessionContext(carol, ['owner']);
  await visit(`/console/agents/${fx.agent.agent.id}`, carolPage, { axe: false });
  assert.equal(await carolPage.getByRole('link', { name: 'Suspend agent' }).count(), 0, 'no button for someone else\'s agent');
  const response = await postForm(carolPage, `/console/agents/${fx.agent.agent.id}/suspend`);
  assert.equal(response.status(), 403);
  assert.match(await response.text(), /ERR_CONSOLE_NOT_RESPONSIBLE/);
  assert.equal((await fx.app.store.agents.get(fx.agent.agent.id))?.status, 'active');
  await carolPage.context().close();
});

test('revoking an unknown credential answers ERR_CREDENTIAL_NOT_FOUND', async () => {
  await page.goto(`${origin}/console/agents`);
  const response = await postForm(page, '/console/credentials/tok_doesnotexist/revoke');
  assert.equal(response.status(), 404);
  assert.match(await response.text(), /ERR_CREDENTIAL_NOT_FOUND/);
});

test('revoking a credential twice answers ERR_CREDENTIAL_REVOKED', async () => {
  const [credential] = await fx.app.store.credentials.listByMandate(approved.mandateId);
  await page.goto(`${origin}/console/agents`);
  const response = await postForm(page, `/console/credentials/${credential!.jti}/revoke`);
  assert.equal(response.status(), 409);
  assert.match(await response.text(), /ERR_CREDENTIAL_REVOKED/);
});

test('an auditor reads the audit page but has no revoke or suspend buttons', async () => {
  const { human: dave } = await fx.addHuman('dave');
  const davePage = await sessionContext(dave, ['auditor']);
  await visit('/console/audit', davePage, { axe: false });
  await visit(`/console/agents/${fx.agent.agent.id}`, davePage, { axe: false });
  assert.equal(await davePage.getByRole('link', { name: 'Suspend agent' }).count(), 0);
  const response = await postForm(davePage, `/console/agents/${fx.agent.agent.id}/suspend`);
  assert.equal(response.status(), 403);
  assert.match(await response.text(), /ERR_ADMIN_FORBIDDEN/);
  await davePage.context().close();
});
