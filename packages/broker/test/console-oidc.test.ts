import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import Provider from 'oidc-provider';
import { ConfigError } from '../src/config/load.ts';
import { createConsoleOidc } from '../src/services/console-oidc.ts';
import { API, startLoopFixture, type LoopFixture } from './support/loop-fixture.ts';
import { addVirtualAuthenticator, launchBrowser, type TestBrowser } from './support/browser.ts';

/**
 * Console sign-in through the organisation's IdP: `oidc-provider` on loopback plays the IdP
 * (authorization code + PKCE through openid-client). The IdP's verified e-mail maps to a human;
 * a human signed in this way still approves only with a fresh passkey assertion.
 */
const CLIENT_ID = 'mandate-console';
const CLIENT_SECRET = 'console-client-secret-for-tests';
const EMAIL = 'carol@example.com';
const UNVERIFIED_EMAIL = 'dave@example.com';

let fx: LoopFixture;
let browser: TestBrowser;
let idp: Server;
let idpIssuer: string;
let origin = '';

/** The IdP is built on its first request: its client's redirect URI names the broker's port, known only later. */
async function startIdp(): Promise<void> {
  let provider: Provider | null = null;
  idp = createServer((req, res) => {
    provider ??= new Provider(idpIssuer, {
      clients: [{ client_id: CLIENT_ID, client_secret: CLIENT_SECRET, redirect_uris: [`${origin}/console/oidc/callback`], grant_types: ['authorization_code'], response_types: ['code'] }],
      claims: { openid: ['sub'], email: ['email', 'email_verified'] },
      // `dave` has an address a human has, but the IdP does not say it verified it (no email_verified).
      findAccount: async (_ctx, sub) => ({
        accountId: sub,
        claims: async () => (sub === 'dave' ? { sub, email: UNVERIFIED_EMAIL } : { sub, email: sub === 'carol' ? EMAIL : `${sub}@elsewhere.example`, email_verified: true }),
      }),
      pkce: { required: () => true },
    });
    provider.callback()(req, res);
  });
  await new Promise<void>((resolve) => idp.listen(0, '127.0.0.1', resolve));
  idpIssuer = `http://127.0.0.1:${(idp.address() as AddressInfo).port}`;
}

before(async () => {
  await startIdp();
  process.env.MANDATE_TEST_CONSOLE_OIDC_SECRET = CLIENT_SECRET;
  fx = await startLoopFixture({ config: { console: { oidc: { issuer: idpIssuer, clientId: CLIENT_ID, clientSecretEnv: 'MANDATE_TEST_CONSOLE_OIDC_SECRET' } } } });
  origin = fx.issuer.replace('127.0.0.1', 'localhost');
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await fx?.close();
  idp?.closeAllConnections();
  await new Promise((resolve) => idp?.close(resolve));
});

async function signInAtIdp(page: import('playwright-core').Page, login: string): Promise<void> {
  await page.goto(`${origin}/console/signin`);
  await page.getByRole('link', { name: 'Sign in with your organisation' }).click();
  await page.locator('input[name="login"]').fill(login);
  await page.locator('input[name="password"]').fill('any');
  await page.locator('button[type="submit"]').click();
  await page.locator('button[type="submit"]', { hasText: 'Continue' }).click();
}

test('OIDC sign-in maps the IdP e-mail to a human; approving still needs a passkey step-up', async () => {
  const added = await fx.adminApi('POST', '/admin/v1/humans', fx.secrets.admin, { name: 'carol', email: EMAIL });
  const carol = added.body as { id: string };
  assert.equal((await fx.adminApi('POST', `/admin/v1/humans/${carol.id}/roles`, fx.secrets.admin, { roles: ['approver'] })).status, 200);
  const agent = await fx.addAgent({ owners: [carol.id] });
  const context = await browser.newContext();
  const page = await context.newPage();
  await addVirtualAuthenticator(page);
  // Enrol a passkey first (from an invite), then sign out: the approval below must use it.
  const invite = await fx.adminApi('POST', `/admin/v1/humans/${carol.id}/invites`, fx.secrets.admin);
  await page.goto(String(invite.body.url));
  await page.getByRole('button', { name: 'Create passkey' }).click();
  await page.waitForURL(`${origin}/console/inbox`);
  await page.getByRole('button', { name: /sign out/i }).click();
  await page.waitForURL(/\/console\/signin/);

  await signInAtIdp(page, 'carol');
  await page.waitForURL(`${origin}/console/inbox`, { timeout: 15_000 }).catch(() => undefined);
  assert.equal(page.url(), `${origin}/console/inbox`, await page.locator('body').innerText());
  const started = (await fx.auditEvents(10)).filter((e) => e.type === 'console_session.started').map((e) => e.data);
  assert.deepEqual(started.filter((d) => (d as { method: string }).method === 'oidc'), [{ human_id: carol.id, method: 'oidc' }]);

  const client = agent.client();
  const { authReqId } = await client.ask({ loginHint: carol.id, bindingMessage: 'Sync the tickets', task: { purpose: 'Sync the tickets', audience: API, actions: ['read'], notAfter: new Date(fx.clock.now() + 3_600_000) } });
  const mandateId = await fx.pendingMandateOf(agent.agent.id);
  await page.goto(`${origin}/console/approve/${mandateId}`);
  await page.getByRole('button', { name: 'Approve with passkey' }).click();
  await page.waitForURL(`${origin}/console/inbox?done=approved`);
  await client.waitForApproval(authReqId, { interval: 0.05, timeoutMs: 10_000 });
  const approved = (await fx.auditEvents(20)).find((e) => e.type === 'mandate.approved' && e.mandate_id === mandateId)!;
  assert.equal((approved.data as { method: string }).method, 'passkey', 'the OIDC session stepped up with the passkey');
  await context.close();
});

test('an IdP account whose e-mail no active human has is refused (ERR_OIDC_NO_HUMAN)', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await signInAtIdp(page, 'mallory');
  await page.waitForURL(/\/console\/oidc\/callback/);
  assert.match(await page.locator('main').innerText(), /ERR_OIDC_NO_HUMAN/);
  await context.close();
});

test('an IdP account without email_verified is refused even when a human has the address (ERR_OIDC_EMAIL_UNVERIFIED)', async () => {
  assert.equal((await fx.adminApi('POST', '/admin/v1/humans', fx.secrets.admin, { name: 'dave', email: UNVERIFIED_EMAIL })).status, 201);
  const context = await browser.newContext();
  const page = await context.newPage();
  await signInAtIdp(page, 'dave');
  await page.waitForURL(/\/console\/oidc\/callback/);
  assert.match(await page.locator('main').innerText(), /ERR_OIDC_EMAIL_UNVERIFIED/);
  assert.equal((await fx.auditEvents(20)).filter((e) => e.type === 'console_session.started' && (e.data as { method: string }).method === 'oidc').length, 1, 'only carol\'s session');
  await context.close();
});

test('an http issuer off loopback fails at start with its dotted path; loopback http is allowed', () => {
  const deps = { store: fx.app.store, clock: fx.clock, clientId: 'c', clientSecret: 's', origin: 'http://localhost:1', key: Buffer.alloc(32) };
  assert.throws(() => createConsoleOidc({ ...deps, issuer: 'http://idp.example' }), (error: Error) => error instanceof ConfigError && /console\.oidc\.issuer/.test(error.message));
  for (const issuer of ['http://127.0.0.1:9', 'http://[::1]:9', 'http://localhost:9', 'https://idp.example']) assert.doesNotThrow(() => createConsoleOidc({ ...deps, issuer }));
});

test('a callback without the signed state cookie is refused (ERR_OIDC_CALLBACK)', async () => {
  const response = await fetch(`${fx.issuer}/console/oidc/callback?code=abc&state=xyz`);
  assert.equal(response.status, 400);
  assert.match(await response.text(), /ERR_OIDC_CALLBACK/);
});
