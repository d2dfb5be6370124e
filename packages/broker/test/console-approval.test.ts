import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { BrowserContext, Page } from 'playwright-core';
import { decodeJwt } from 'jose';
import { createPasskeyProofCheck } from '../src/audit/passkey-proofs.ts';
import { verificationKeysFromStore } from '../src/audit/verification-keys.ts';
import { verifyAudit } from '../src/audit/verify.ts';
import { nodeChainHashing } from '../src/store/chain-hashing.ts';
import { API, CONTRAINDICATED_DIGEST, REPOSITORY_ID, startLoopFixture, type LoopFixture } from './support/loop-fixture.ts';
import { addVirtualAuthenticator, checkAccessibility, launchBrowser, type TestBrowser } from './support/browser.ts';

/**
 * The console's must-show list in real headless Chromium with a CDP virtual authenticator: enrol a
 * passkey from an invite, sign in, approve an agent's request (made through the SDK) with the
 * passkey so the agent's CIBA poll gets its token; deny; a non-approver gets 403; an approval
 * replayed for another task is refused; resume a suspended mandate.
 */
let fx: LoopFixture;
let browser: TestBrowser;
let origin: string;
let alice: { context: BrowserContext; page: Page };

before(async () => {
  fx = await startLoopFixture({ config: { attestation: { policies: { 'oidc-only': { anyOf: [{ allOf: [{ attestor: 'oidc-token', claims: { repository_id: REPOSITORY_ID } }] }] } } } } });
  browser = await launchBrowser();
  origin = fx.issuer.replace('127.0.0.1', 'localhost');
  await setRoles(fx.alice.id, ['approver']);
  alice = await enrolled(fx.alice.id);
});
after(async () => {
  await browser?.close();
  await fx?.close();
});

async function setRoles(humanId: string, roles: string[]): Promise<void> {
  const response = await fx.adminApi('POST', `/admin/v1/humans/${humanId}/roles`, fx.secrets.admin, { roles });
  assert.equal(response.status, 200, JSON.stringify(response.body));
}

/** A fresh browser context with its own authenticator, enrolled from an invite (and so signed in). */
async function enrolled(humanId: string): Promise<{ context: BrowserContext; page: Page }> {
  const invite = await fx.adminApi('POST', `/admin/v1/humans/${humanId}/invites`, fx.secrets.admin);
  assert.equal(invite.status, 201, JSON.stringify(invite.body));
  const context = await browser.newContext();
  const page = await context.newPage();
  await addVirtualAuthenticator(page);
  await page.goto(String(invite.body.url));
  await page.getByRole('button', { name: 'Create passkey' }).click();
  await page.waitForURL(`${origin}/console/inbox`);
  return { context, page };
}

async function ask(purpose: string): Promise<{ client: ReturnType<LoopFixture['agent']['client']>; authReqId: string; mandateId: string }> {
  const client = fx.agent.client();
  const { authReqId } = await client.ask({
    loginHint: fx.alice.id, bindingMessage: `${purpose} <b>now</b>`, task: { purpose, audience: API, actions: ['read'], notAfter: new Date(fx.clock.now() + 3_600_000), maxUses: 5 },
  });
  return { client, authReqId, mandateId: await fx.pendingMandateOf(fx.agent.agent.id) };
}

/** A JSON POST from inside the page (same origin, the session cookie, the page's CSRF token unless told). */
function postFromPage(page: Page, url: string, body: unknown, csrf = true): Promise<{ status: number; body: Record<string, unknown> }> {
  return page.evaluate(async ({ url, body, csrf }) => {
    const token = document.querySelector('meta[name="csrf-token"]')?.getAttribute('content') ?? '';
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...(csrf ? { 'x-csrf-token': token } : {}) }, body: JSON.stringify(body) });
    return { status: res.status, body: await res.json() };
  }, { url, body, csrf });
}

/** Runs the authenticator in the page over `options` (what the approve script does), without submitting. */
async function assertWith(page: Page, options: unknown): Promise<unknown> {
  if (!(await page.evaluate(() => 'SimpleWebAuthnBrowser' in window))) await page.addScriptTag({ url: '/console/scripts/simplewebauthn-browser.js' });
  return page.evaluate((optionsJSON) => (window as unknown as { SimpleWebAuthnBrowser: { startAuthentication(o: unknown): Promise<unknown> } }).SimpleWebAuthnBrowser.startAuthentication({ optionsJSON }), options);
}

test('enrol from an invite, sign out, sign in with the passkey: cookies HttpOnly, Secure, SameSite=Strict; CSP', async () => {
  const events = (await fx.auditEvents(20)).map((e) => e.type);
  assert.ok(events.includes('human.invited') && events.includes('passkey.registered'), events.join(','));
  const { page, context } = alice;
  await page.getByRole('button', { name: /sign out/i }).click();
  await page.waitForURL(/\/console\/signin/);
  const signin = await page.goto(`${origin}/console/signin`);
  assert.match(signin!.headers()['content-security-policy'] ?? '', /default-src 'self'; frame-ancestors 'none'/);
  assert.equal(signin!.headers()['cache-control'], 'no-store');
  await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
  await page.waitForURL(`${origin}/console/inbox`);
  const [cookie] = (await context.cookies()).filter((c) => c.name === '__Host-mandate_session');
  assert.ok(cookie, 'session cookie set');
  assert.deepEqual([cookie.httpOnly, cookie.secure, cookie.sameSite, cookie.path], [true, true, 'Strict', '/']);
});

test('an agent asks through the SDK, alice approves with her passkey, the CIBA poll gets the token (method passkey)', async () => {
  const { client, authReqId, mandateId } = await ask('Triage the items');
  const { page } = alice;
  await page.goto(`${origin}/console/inbox`);
  await page.getByRole('link', { name: fx.agent.agent.name }).click();
  await page.waitForURL(`${origin}/console/approve/${mandateId}`);
  const text = await page.locator('main').innerText();
  for (const shown of ['Triage the items', API, 'read', 'Max uses', '5', 'oidc-token', 'code-digest', 'alice', 'bob'])
    assert.ok(text.includes(shown), `the page shows ${shown}`);
  assert.ok(text.includes('Triage the items <b>now</b>'), 'the binding message is shown as text, not markup');
  assert.deepEqual(await checkAccessibility(page), []);
  await page.getByRole('button', { name: 'Approve with passkey' }).click();
  await page.waitForURL(`${origin}/console/inbox?done=approved`);
  const { accessToken } = await client.waitForApproval(authReqId, { interval: 0.05, timeoutMs: 10_000 });
  const details = (decodeJwt(accessToken).authorization_details as Array<{ delegation: Record<string, unknown> }>)[0]!;
  assert.equal(details.delegation.method, 'passkey');
  assert.equal(details.delegation.approved_by, fx.alice.id);
  const approved = (await fx.auditEvents(20)).find((e) => e.type === 'mandate.approved' && e.mandate_id === mandateId)!;
  const data = approved.data as Record<string, unknown>;
  assert.equal(data.method, 'passkey');
  assert.equal(typeof data.credential_id, 'string');
  assert.equal(typeof data.signature, 'string');
});

test('deny: the CIBA poll gets access_denied', async () => {
  const { client, authReqId, mandateId } = await ask('Delete the archive');
  const { page } = alice;
  await page.goto(`${origin}/console/approve/${mandateId}`);
  await page.getByRole('button', { name: 'Deny' }).click();
  await page.waitForURL(`${origin}/console/inbox?done=denied`);
  await assert.rejects(client.waitForApproval(authReqId, { interval: 0.05, timeoutMs: 10_000 }), /access_denied/);
});

test('a human without the approver role gets 403 (ERR_ADMIN_FORBIDDEN); an approver not named in the request too (ERR_MANDATE_NOT_APPROVER); a passkey of another human (ERR_PASSKEY_WRONG_HUMAN)', async () => {
  const { mandateId } = await ask('Read the wiki');
  const bob = await enrolled(fx.bob.id);
  try {
    const noRole = await bob.page.goto(`${origin}/console/approve/${mandateId}`);
    assert.equal(noRole!.status(), 403);
    assert.match(await bob.page.locator('main').innerText(), /ERR_ADMIN_FORBIDDEN/);
    await setRoles(fx.bob.id, ['approver']);
    const notNamed = await bob.page.goto(`${origin}/console/approve/${mandateId}`);
    assert.equal(notNamed!.status(), 403);
    const options = await postFromPage(bob.page, `/console/approve/${mandateId}/options`, {});
    assert.deepEqual([options.status, options.body.code], [403, 'ERR_MANDATE_NOT_APPROVER']);
    const forged = await postFromPage(bob.page, `/console/approve/${mandateId}`, { nonce: 'x', response: {} });
    assert.deepEqual([forged.status, forged.body.code], [403, 'ERR_MANDATE_NOT_APPROVER']);
    // Bob's passkey signing alice's ceremony, sent in alice's session (ERR_PASSKEY_WRONG_HUMAN).
    await alice.page.goto(`${origin}/console/approve/${mandateId}`);
    const ceremony = (await postFromPage(alice.page, `/console/approve/${mandateId}/options`, {})).body as { nonce: string; options: Record<string, unknown> };
    const bobs = await assertWith(bob.page, { ...ceremony.options, allowCredentials: [] });
    const wrong = await postFromPage(alice.page, `/console/approve/${mandateId}`, { nonce: ceremony.nonce, response: bobs });
    assert.deepEqual([wrong.status, wrong.body.code], [403, 'ERR_PASSKEY_WRONG_HUMAN']);
    assert.equal((await fx.app.loop.decisions.get(mandateId)).status, 'pending');
  } finally {
    await bob.context.close();
  }
});

test('an approval replayed for a different task is refused (ERR_PASSKEY_CHALLENGE_INVALID, ERR_PASSKEY_VERIFICATION, ERR_PASSKEY_CHALLENGE_REPLAYED)', async () => {
  const first = await ask('Label the issues');
  const second = await ask('Close the issues');
  const { page } = alice;
  await page.goto(`${origin}/console/approve/${first.mandateId}`);
  const ceremonyA = (await postFromPage(page, `/console/approve/${first.mandateId}/options`, {})).body as { nonce: string; options: unknown };
  const responseA = await assertWith(page, ceremonyA.options);
  // The whole approval of the first task, sent for the second: its nonce is bound to the first.
  const replayed = await postFromPage(page, `/console/approve/${second.mandateId}`, { nonce: ceremonyA.nonce, response: responseA });
  assert.deepEqual([replayed.status, replayed.body.code], [400, 'ERR_PASSKEY_CHALLENGE_INVALID']);
  // With a fresh nonce for the second task, the first task's signature does not cover its challenge.
  const ceremonyB = (await postFromPage(page, `/console/approve/${second.mandateId}/options`, {})).body as { nonce: string; options: unknown };
  const responseB = await assertWith(page, ceremonyB.options);
  const swapped = await postFromPage(page, `/console/approve/${second.mandateId}`, { nonce: ceremonyB.nonce, response: responseA });
  assert.deepEqual([swapped.status, swapped.body.code], [401, 'ERR_PASSKEY_VERIFICATION']);
  // That nonce was spent by the failed attempt: even the right signature over it is refused now.
  const again = await postFromPage(page, `/console/approve/${second.mandateId}`, { nonce: ceremonyB.nonce, response: responseB });
  assert.deepEqual([again.status, again.body.code], [400, 'ERR_PASSKEY_CHALLENGE_REPLAYED']);
  assert.equal((await fx.app.loop.decisions.get(second.mandateId)).status, 'pending');
  // The first approval, sent where it belongs, still works.
  const ok = await postFromPage(page, `/console/approve/${first.mandateId}`, { nonce: ceremonyA.nonce, response: responseA });
  assert.equal(ok.status, 200, JSON.stringify(ok.body));
});

test('a console POST without the CSRF token is refused (ERR_CONSOLE_CSRF); without a session (ERR_CONSOLE_UNAUTHENTICATED)', async () => {
  const { mandateId } = await ask('Tag the releases');
  const { page } = alice;
  await page.goto(`${origin}/console/inbox`);
  const noToken = await postFromPage(page, `/console/approve/${mandateId}/options`, {}, false);
  assert.deepEqual([noToken.status, noToken.body.code], [403, 'ERR_CONSOLE_CSRF']);
  const crossSite = await fetch(`${fx.issuer}/console/deny/${mandateId}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', origin }, body: '_csrf=x', redirect: 'manual' });
  assert.equal(crossSite.status, 401);
  assert.match(await crossSite.text(), /ERR_CONSOLE_UNAUTHENTICATED/);
  assert.equal((await fx.app.loop.decisions.get(mandateId)).status, 'pending');
});

test('an older sign-in assertion after a newer one is refused (ERR_PASSKEY_COUNTER)', async () => {
  const { page } = alice;
  await page.goto(`${origin}/console/inbox`);
  const first = await assertWith(page, (await postFromPage(page, '/console/signin/options', {})).body);
  const second = await assertWith(page, (await postFromPage(page, '/console/signin/options', {})).body);
  assert.equal((await postFromPage(page, '/console/signin', { response: second })).status, 200);
  await page.goto(`${origin}/console/inbox`);
  const older = await postFromPage(page, '/console/signin', { response: first });
  assert.deepEqual([older.status, older.body.code], [401, 'ERR_PASSKEY_COUNTER']);
});

/** An agent whose policy needs only the OIDC token, so its evidence can be `affirming` (code-digest alone is only `warning`). */
let resumer: Awaited<ReturnType<LoopFixture['addAgent']>>;
let resumedId = '';
const oidcOnly = async ({ audience }: { audience: string }) => [{ attestor: 'oidc-token', evidence: await fx.oidc.sign({ aud: audience }) }];

/** Attests with the test-only known-bad code digest: contraindicated, so the agent's mandates are suspended. */
async function attestContraindicated(): Promise<void> {
  const client = resumer.client({
    evidence: async ({ audience }) => [...(await oidcOnly({ audience })), { attestor: 'code-digest', evidence: { digest: CONTRAINDICATED_DIGEST } }],
  });
  await assert.rejects(client.attest());
}

test('resume a suspended mandate: not before a fresh affirming attestation (ERR_RESUME_ATTESTATION), not by another human (ERR_RESUME_NOT_APPROVER), then with the passkey', async () => {
  resumer = await fx.addAgent({ owners: [fx.alice.id], policy: 'oidc-only' });
  const client = resumer.client({ evidence: oidcOnly });
  const { authReqId } = await client.ask({ loginHint: fx.alice.id, bindingMessage: 'Nightly sync', task: { purpose: 'Nightly sync', audience: API, actions: ['read'], notAfter: new Date(fx.clock.now() + 30 * 24 * 3_600_000) } });
  resumedId = await fx.pendingMandateOf(resumer.agent.id);
  const { page } = alice;
  await page.goto(`${origin}/console/approve/${resumedId}`);
  await page.getByRole('button', { name: 'Approve with passkey' }).click();
  await page.waitForURL(`${origin}/console/inbox?done=approved`);
  await client.waitForApproval(authReqId, { interval: 0.05, timeoutMs: 10_000 });
  await attestContraindicated();
  assert.equal((await fx.app.loop.decisions.get(resumedId)).status, 'suspended');
  const stale = await page.goto(`${origin}/console/resume/${resumedId}`);
  assert.equal(stale!.status(), 409);
  assert.match(await page.locator('main').innerText(), /ERR_RESUME_ATTESTATION/);
  const bob = await fx.app.console.auth.startSession(fx.bob.id, 'passkey', 'req_test', true);
  const byBob = await fetch(`${fx.issuer}/console/resume/${resumedId}`, { headers: { cookie: `__Host-mandate_session=${bob}` } });
  assert.equal(byBob.status, 403);
  assert.match(await byBob.text(), /ERR_RESUME_NOT_APPROVER/);
  await client.attest();
  // The approver finds the way from the mandate's page: its header offers Resume to them only.
  await page.goto(`${origin}/console/mandates/${resumedId}`);
  await page.getByRole('link', { name: 'Resume with passkey' }).click();
  await page.waitForURL(`${origin}/console/resume/${resumedId}`);
  await page.getByRole('button', { name: 'Resume with passkey' }).click();
  await page.waitForURL(`${origin}/console/inbox?done=resumed`);
  assert.equal((await fx.app.loop.decisions.get(resumedId)).status, 'active');
  const resumed = (await fx.auditEvents(10)).find((e) => e.type === 'mandate.resumed' && e.mandate_id === resumedId);
  assert.equal((resumed?.data as { method?: string } | undefined)?.method, 'passkey');
});

test('a mandate still suspended after mandates.suspendedRevokeAfter is revoked by the sweep', async () => {
  await attestContraindicated();
  assert.equal(await fx.app.console.resume.sweep('req_sweep_early'), 0, 'not yet due');
  fx.clock.advance(7 * 24 * 3_600_000 + 60_000);
  assert.ok((await fx.app.console.resume.sweep('req_sweep')) >= 1);
  const mandate = await fx.app.loop.decisions.get(resumedId);
  assert.deepEqual([mandate.status, mandate.endReason], ['revoked', 'suspension_expired']);
});

test('mandate audit verify re-checks every passkey approval and resumption offline; a tampered task digest is flagged (ERR_AUDIT_PASSKEY_CHALLENGE)', async () => {
  const { store, config } = fx.app;
  const report = await verifyAudit({ sink: store.audit, keys: await verificationKeysFromStore(store.keys), checkpointFile: config.audit.checkpointFile, hashing: nodeChainHashing });
  assert.deepEqual(report.faults, []);
  const events = await store.audit.read(config.audit.chain, 1, 100_000);
  const decisions = events.filter((e) => (e.type === 'mandate.approved' || e.type === 'mandate.resumed') && (e.data as { method?: string }).method === 'passkey');
  assert.ok(decisions.length >= 4, 'approvals and the resumption were checked');
  const tampered = events.map((e) => (e === decisions[0] ? { ...e, data: { ...(e.data as object), task_s256: 'A'.repeat(43) } } : e));
  const check = createPasskeyProofCheck();
  check.observe(tampered);
  const faults = await check.check();
  assert.deepEqual(faults.map((f) => [f.code, f.seq]), [['ERR_AUDIT_PASSKEY_CHALLENGE', decisions[0]!.seq]]);
  const forged = events.map((e) => (e === decisions[1] ? { ...e, data: { ...(e.data as object), signature: (decisions[0]!.data as { signature: string }).signature } } : e));
  const again = createPasskeyProofCheck();
  again.observe(forged);
  assert.deepEqual((await again.check()).map((f) => f.code), ['ERR_AUDIT_PASSKEY_SIGNATURE']);
});

test('a passkey decision whose credential was registered by another human is flagged (ERR_AUDIT_PASSKEY_WRONG_HUMAN)', async () => {
  const events = await fx.app.store.audit.read(fx.app.config.audit.chain, 1, 100_000);
  const bobs = events.find((e) => e.type === 'passkey.registered' && (e.data as { human_id?: string }).human_id === fx.bob.id);
  assert.ok(bobs, 'bob enrolled a passkey above');
  const alices = events.find((e) => e.type === 'mandate.approved' && e.actor === fx.alice.id && (e.data as { method?: string }).method === 'passkey')!;
  const swapped = events.map((e) => (e === alices ? { ...e, data: { ...(e.data as object), credential_id: (bobs.data as { credential_id: string }).credential_id } } : e));
  const check = createPasskeyProofCheck();
  check.observe(swapped);
  assert.deepEqual((await check.check()).map((f) => [f.code, f.seq]), [['ERR_AUDIT_PASSKEY_WRONG_HUMAN', alices.seq]]);
});

test('enrolling a passkey notifies its human (passkey.registered), so an enrolment they did not make is visible', async () => {
  const notes = await fx.app.store.notifications.listForRecipient(fx.bob.id, { limit: 500 });
  const registered = (await fx.app.store.audit.read(fx.app.config.audit.chain, 1, 100_000)).filter((e) => e.type === 'passkey.registered' && (e.data as { human_id?: string }).human_id === fx.bob.id);
  assert.deepEqual(
    notes.filter((n) => n.kind === 'passkey.registered').map((n) => n.payload['credential_id']),
    registered.map((e) => (e.data as { credential_id: string }).credential_id),
  );
  assert.equal(registered.length, 1);
});
