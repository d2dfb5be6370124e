import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { AdminRight } from '../src/core/model.ts';
import type { RouteSpec } from '../src/http/route-spec.ts';
import { ROUTES } from '../src/http/routes.ts';
import { ecPublicJwk, startTestApp, type TestApp } from './support/app-fixture.ts';
import { createPendingMandate, MANDATE_TEST_CONFIG } from './support/mandate-fixture.ts';
import { assertFamilyError } from './support/wire-asserts.ts';

/** How to make a request to each admin route succeed: its URL and body, prepared on the real store. */
type Success = (t: TestApp) => Promise<{ url: string; body?: Record<string, unknown> }>;

const ctx = (t: TestApp) => ({ actor: t.admin.id, requestId: 'req_AAAAAAAAAAAAAAAAAAAAAA' });
const human = async (t: TestApp) => (await t.app.directory.addHuman({ name: 'someone' }, ctx(t))).id;
let agents = 0;
const agent = async (t: TestApp) =>
  (await t.app.directory.addAgent({ name: `auth-agent-${++agents}`, owners: [t.admin.id], policy: 'default', jwk: ecPublicJwk() }, ctx(t))).id;
let findings = 0;
const finding = async (t: TestApp) => {
  const input = { kind: 'github_classic_pat', service: 'https://api.github.com', file: `f${++findings}.env`, line: 1, fingerprint: `sha256:${'A'.repeat(43)}`, ownerGuess: null, reason: 'a PAT' };
  return (await t.app.findings.record([input], ctx(t)))[0]!.finding.id;
};
const adminToken = async (t: TestApp) =>
  (await t.app.adminTokens.create({ humanId: t.admin.id, label: 'x', rights: ['audit:read'] }, { ...ctx(t), callerRights: ['admin'] })).token.id;

/** An active mandate of the bootstrap human's agent (the CIBA collect is stood in for by the store's transition). */
const activeMandate = async (t: TestApp) => {
  const id = await createPendingMandate(t.app, t.admin.id);
  await t.app.loop.decisions.approve(id, { method: 'admin_token', proof: {} }, ctx(t));
  await t.app.store.mandates.transition(id, ['approved'], { status: 'active', grantHash: `grant-${id}` });
  return id;
};
let deliveries = 0;
const delivery = async (t: TestApp) => {
  const id = `whd_auth${String(++deliveries).padStart(18, '0')}`;
  await t.app.store.webhookDeliveries.insert({ id, webhook: 'chat', notificationId: deliveries, kind: 'review.due', body: '{}', status: 'failed', attempts: 6, nextAttemptAt: null, lastStatusCode: 503, lastError: 'http_503', createdAt: 1, deliveredAt: null });
  return id;
};
const SUCCESS: Record<string, Success> = {
  'POST /admin/v1/humans': async () => ({ url: '/admin/v1/humans', body: { name: 'Bob', email: 'bob@example.com' } }),
  'GET /admin/v1/humans': async () => ({ url: '/admin/v1/humans' }),
  'GET /admin/v1/humans/:id': async (t) => ({ url: `/admin/v1/humans/${await human(t)}` }),
  'POST /admin/v1/humans/:id/disable': async (t) => ({ url: `/admin/v1/humans/${await human(t)}/disable` }),
  'POST /admin/v1/humans/:id/invites': async (t) => ({ url: `/admin/v1/humans/${await human(t)}/invites` }),
  'GET /admin/v1/humans/:id/roles': async (t) => ({ url: `/admin/v1/humans/${await human(t)}/roles` }),
  // Only roles whose rights the caller holds (ERR_ROLE_RIGHTS_EXCEEDED): a humans:write token may clear them.
  'POST /admin/v1/humans/:id/roles': async (t) => ({ url: `/admin/v1/humans/${await human(t)}/roles`, body: { roles: [] } }),
  'POST /admin/v1/agents': async (t) => ({
    url: '/admin/v1/agents',
    body: { name: `api-agent-${++agents}`, owners: [t.admin.id], policy: 'default', jwk: ecPublicJwk() },
  }),
  'GET /admin/v1/agents': async () => ({ url: '/admin/v1/agents' }),
  'GET /admin/v1/agents/:id': async (t) => ({ url: `/admin/v1/agents/${await agent(t)}` }),
  'POST /admin/v1/agents/:id/suspend': async (t) => ({ url: `/admin/v1/agents/${await agent(t)}/suspend` }),
  'POST /admin/v1/agents/:id/retire': async (t) => ({ url: `/admin/v1/agents/${await agent(t)}/retire` }),
  'POST /admin/v1/tokens': async () => ({ url: '/admin/v1/tokens', body: { label: 'ci', rights: ['tokens:manage'] } }),
  'GET /admin/v1/tokens': async () => ({ url: '/admin/v1/tokens' }),
  'POST /admin/v1/tokens/:id/revoke': async (t) => ({ url: `/admin/v1/tokens/${await adminToken(t)}/revoke` }),
  'GET /admin/v1/keys': async () => ({ url: '/admin/v1/keys' }),
  'POST /admin/v1/keys/rotate': async () => ({ url: '/admin/v1/keys/rotate' }),
  'GET /admin/v1/audit/events': async () => ({ url: '/admin/v1/audit/events?limit=5' }),
  // The tokens act as the bootstrap human, who is the approver of these real pending mandates.
  'GET /admin/v1/mandates': async () => ({ url: '/admin/v1/mandates?status=pending&limit=5' }),
  'GET /admin/v1/mandates/:id': async (t) => ({ url: `/admin/v1/mandates/${await createPendingMandate(t.app, t.admin.id)}` }),
  'POST /admin/v1/mandates/:id/approve': async (t) => ({ url: `/admin/v1/mandates/${await createPendingMandate(t.app, t.admin.id)}/approve` }),
  'POST /admin/v1/mandates/:id/deny': async (t) => ({ url: `/admin/v1/mandates/${await createPendingMandate(t.app, t.admin.id)}/deny` }),
  'POST /admin/v1/mandates/:id/revoke': async (t) => ({ url: `/admin/v1/mandates/${await createPendingMandate(t.app, t.admin.id)}/revoke`, body: { reason: 'no longer needed' } }),
  'POST /admin/v1/findings': async () => ({
    url: '/admin/v1/findings',
    body: { findings: [{ kind: 'gitlab_pat', service: 'https://gitlab.com/api/v4', file: '.env', line: 1, fingerprint: `sha256:${'B'.repeat(43)}`, owner_guess: null, reason: 'a PAT' }] },
  }),
  'GET /admin/v1/findings': async () => ({ url: '/admin/v1/findings?status=open' }),
  'GET /admin/v1/findings/:id': async (t) => ({ url: `/admin/v1/findings/${await finding(t)}` }),
  'POST /admin/v1/findings/:id/convert': async (t) => ({ url: `/admin/v1/findings/${await finding(t)}/convert`, body: { agent_name: `converted-${++agents}`, owner: t.admin.id } }),
  'POST /admin/v1/findings/:id/dismiss': async (t) => ({ url: `/admin/v1/findings/${await finding(t)}/dismiss`, body: { reason: 'a test fixture' } }),
  'GET /admin/v1/lifecycle': async () => ({ url: '/admin/v1/lifecycle' }),
  'POST /admin/v1/lifecycle/run': async () => ({ url: '/admin/v1/lifecycle/run' }),
  'GET /admin/v1/audit/export': async () => ({ url: '/admin/v1/audit/export?format=ocsf&limit=5' }),
  'GET /admin/v1/inventory/export': async () => ({ url: '/admin/v1/inventory/export?format=json' }),
  'GET /admin/v1/reviews': async () => ({ url: '/admin/v1/reviews?due=false' }),
  'POST /admin/v1/mandates/:id/review': async (t) => ({ url: `/admin/v1/mandates/${await activeMandate(t)}/review`, body: { decision: 'keep' } }),
  'GET /admin/v1/notifications/deliveries': async () => ({ url: '/admin/v1/notifications/deliveries?status=failed' }),
  'GET /admin/v1/notifications/deliveries/:id': async (t) => ({ url: `/admin/v1/notifications/deliveries/${await delivery(t)}` }),
};

const ADMIN_ROUTES = ROUTES.filter((route) => route.family === 'admin');
const keyOf = (route: RouteSpec) => `${route.method} ${route.path}`;
const concrete = (path: string) => path.replace(/:id/g, 'usr_AAAAAAAAAAAAAAAAAAAAAA');

let t: TestApp;
const secrets = new Map<AdminRight, string>();
let revokedSecret: string;

async function tokenWith(right: AdminRight): Promise<string> {
  if (!secrets.has(right)) {
    const issued = await t.app.adminTokens.create({ humanId: t.admin.id, label: right, rights: [right] }, { ...ctx(t), callerRights: ['admin'] });
    secrets.set(right, issued.secret);
  }
  return secrets.get(right)!;
}

before(async () => {
  t = await startTestApp({ config: MANDATE_TEST_CONFIG });
  const revoked = await t.app.adminTokens.create({ humanId: t.admin.id, label: 'gone', rights: ['admin'] }, { ...ctx(t), callerRights: ['admin'] });
  await t.app.adminTokens.revoke(revoked.token.id, ctx(t));
  revokedSecret = revoked.secret;
});
after(() => t.close());

test('every admin route names a right and has a success case here', () => {
  assert.ok(ADMIN_ROUTES.length >= 15);
  for (const route of ADMIN_ROUTES) {
    assert.ok(route.right, `${keyOf(route)} has no right`);
    assert.ok(SUCCESS[keyOf(route)], `${keyOf(route)} has no success case in this test`);
  }
});

for (const route of ADMIN_ROUTES) {
  describe(keyOf(route), () => {
    const send = (authorization?: string) =>
      t.inject({ method: route.method, url: concrete(route.path), headers: authorization ? { authorization } : {} });

    test('401 without a token, with a Bearer challenge', async () => {
      const response = await send();
      assertFamilyError(response, 'admin', 401, 'ERR_ADMIN_UNAUTHENTICATED');
      assert.equal(response.headers['www-authenticate'], 'Bearer realm="mandate-admin"');
    });

    for (const [name, header] of [
      ['a malformed token', 'Bearer not-a-token'],
      ['another scheme', 'Basic YWRtaW46YWRtaW4='],
      ['an empty bearer', 'Bearer '],
      ['an unknown token', `Bearer mat_${'A'.repeat(22)}.${'B'.repeat(43)}`],
    ] as const) {
      test(`401 with ${name}`, async () => {
        const response = await send(header);
        assertFamilyError(response, 'admin', 401, 'ERR_ADMIN_UNAUTHENTICATED');
        assert.match(String(response.headers['www-authenticate']), /^Bearer realm="mandate-admin", error="invalid_token"$/);
      });
    }

    test('401 with a revoked token', async () => {
      assertFamilyError(await send(`Bearer ${revokedSecret}`), 'admin', 401, 'ERR_ADMIN_UNAUTHENTICATED');
    });

    test(`403 with a token lacking ${route.right}`, async () => {
      const other: AdminRight = route.right === 'audit:read' ? 'humans:read' : 'audit:read';
      const response = await send(`Bearer ${await tokenWith(other)}`);
      const body = assertFamilyError(response, 'admin', 403, 'ERR_ADMIN_FORBIDDEN');
      assert.equal(body.right, route.right);
    });

    test(`succeeds with a token holding only ${route.right}`, async () => {
      const { url, body } = await SUCCESS[keyOf(route)]!(t);
      const response = await t.call(route.method, url, body, await tokenWith(route.right!));
      assert.ok(response.statusCode === 200 || response.statusCode === 201, `${response.statusCode} ${response.body}`);
      assert.match(String(response.headers['content-type']), /^application\/json/);
      assert.equal(response.headers['cache-control'], 'no-store');
      assert.doesNotMatch(response.body, /secretHash|secret_hash|"d":/);
    });
  });
}
