import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { AgentClient } from '@mandate/sdk';
import type { LightMyRequestResponse } from 'fastify';
import { CONSOLE_PAGES } from '../src/console/pages/index.ts';
import type { ConsolePage } from '../src/console/route.ts';
import { SESSION_COOKIE } from '../src/console/session-cookie.ts';
import { ERROR_CATALOGUE, type ErrorCode } from '../src/core/errors.ts';
import { ADMIN_RIGHTS, hasRight, type AdminRight } from '../src/core/model.ts';
import { CONSOLE_ROLES, ROLE_RIGHTS, rightsOfRoles, type ConsoleRole } from '../src/core/roles.ts';
import { OPS_PATHS } from '../src/http/ops/health.ts';
import { authenticateClient } from '../src/http/oauth/client-steps.ts';
import type { RouteSpec } from '../src/http/route-spec.ts';
import { ROUTES } from '../src/http/routes.ts';
import { API, assertOAuthError, clientAuth, OTHER_API, SECRETS, startLoopFixture, type LoopFixture } from './support/loop-fixture.ts';

/**
 * Least privilege, issue #11 item 4: every route the server registers × every caller (no
 * credential, a credential with no rights, and each console role: an admin token holding exactly
 * the role's rights on the admin API, a signed-in console session of a human with that role on the
 * console). The expectation is derived from each route's declared right and `ROLE_RIGHTS`, and the
 * sensitive routes are also checked against a hand-written list, so a wrong declaration fails.
 * A route the server serves that this file does not classify fails the first test.
 */
type Caller = 'none' | 'no-rights' | ConsoleRole;
const CALLERS: readonly Caller[] = ['none', 'no-rights', ...CONSOLE_ROLES];
const METRICS_TOKEN = 'metrics-scrape-token-0123456789';
const REQ = 'req_LPLPLPLPLPLPLPLPLPLPLP';
const ID = 'usr_AAAAAAAAAAAAAAAAAAAAAA';

/** Hand-written: who may call the sensitive admin routes (an independent statement of intent). */
const SENSITIVE: Record<string, readonly ConsoleRole[]> = {
  'POST /admin/v1/keys/rotate': ['admin'],
  'GET /admin/v1/keys': ['admin', 'auditor'],
  'POST /admin/v1/humans/:id/roles': ['admin'],
  'GET /admin/v1/humans/:id/roles': ['admin', 'owner', 'approver', 'auditor'],
  'POST /admin/v1/humans': ['admin'],
  'POST /admin/v1/humans/:id/disable': ['admin'],
  'POST /admin/v1/humans/:id/invites': ['admin'],
  'POST /admin/v1/tokens': ['admin'],
  'GET /admin/v1/tokens': ['admin'],
  'POST /admin/v1/tokens/:id/revoke': ['admin'],
  'GET /admin/v1/audit/events': ['admin', 'auditor'],
  'GET /admin/v1/audit/export': ['admin', 'auditor'],
  'GET /admin/v1/notifications/deliveries': ['admin'],
  'GET /admin/v1/notifications/deliveries/:id': ['admin'],
  'POST /admin/v1/mandates/:id/approve': ['admin', 'owner', 'approver'],
  'POST /admin/v1/mandates/:id/revoke': ['admin', 'owner'],
  'POST /admin/v1/findings/:id/convert': ['admin'],
};
/** Hand-written, console: the pages that touch keys, roles, audit or decisions. */
const SENSITIVE_PAGES: Record<string, readonly ConsoleRole[]> = {
  'GET /console/audit': ['admin', 'auditor'],
  'POST /console/approve/:id': ['admin', 'owner', 'approver'],
  'POST /console/deny/:id': ['admin', 'owner', 'approver'],
  'POST /console/mandates/:id/revoke': ['admin', 'owner'],
  'POST /console/credentials/:jti/revoke': ['admin', 'owner'],
  'POST /console/agents/:id/suspend': ['admin', 'owner'],
  'POST /console/reviews/:id': ['admin', 'owner'],
};

/** How each OAuth route authenticates its caller (PROTOCOL §2, §7; RFC 7662 §2.1; OpenID SSF §7). */
type OAuthAccess = 'public' | 'agent' | 'audience';
const OAUTH_ACCESS: Record<string, OAuthAccess> = {
  'GET /.well-known/oauth-authorization-server': 'public',
  'GET /jwks': 'public',
  'POST /challenge': 'public',
  'POST /attest': 'agent',
  'POST /attest/tpm/enrol': 'agent',
  'POST /attest/tpm/activate': 'agent',
  'POST /bc-authorize': 'agent',
  'POST /token': 'agent',
  'POST /introspect': 'audience',
  'POST /revoke': 'agent',
  'GET /statuslists/:id': 'public',
  'GET /.well-known/ssf-configuration': 'public',
  'POST /ssf/streams': 'audience',
  'GET /ssf/streams': 'audience',
  'PATCH /ssf/streams': 'audience',
  'DELETE /ssf/streams': 'audience',
  'GET /ssf/status': 'audience',
  'POST /ssf/status': 'audience',
  'POST /ssf/subjects/add': 'audience',
  'POST /ssf/subjects/remove': 'audience',
  'POST /ssf/verify': 'audience',
};
/** The code an unauthenticated caller gets, by how the route authenticates. */
const OAUTH_REFUSAL: Record<Exclude<OAuthAccess, 'public'>, ErrorCode> = { agent: 'ERR_CLIENT_AUTH_MISSING', audience: 'ERR_INTROSPECT_CLIENT' };
const SSF_REFUSAL: ErrorCode = 'ERR_SSF_UNAUTHENTICATED';

/** Public console pages (sign-in, enrolment by invite link, the OIDC round trip) and the session-only ones. */
const PUBLIC_PAGES = new Set(['GET /console', 'GET /console/signin', 'POST /console/signin/options', 'POST /console/signin', 'GET /console/oidc/start', 'GET /console/oidc/callback', 'GET /console/enroll/:token', 'POST /console/enroll/:token/options', 'POST /console/enroll/:token']);
const SESSION_ONLY = new Set(['POST /console/signout']);
/** Served beside the tables: static console files, the event stream, the operator endpoints. */
const OTHER_ROUTES: Record<string, 'public' | 'session' | 'metrics'> = {
  'GET /console/assets/:file': 'public',
  'GET /console/scripts/:file': 'public',
  'GET /console/events': 'session',
  [`GET ${OPS_PATHS.health}`]: 'public',
  [`GET ${OPS_PATHS.ready}`]: 'public',
  [`GET ${OPS_PATHS.metrics}`]: 'metrics',
};

const keyOf = (route: { method: string; path: string }) => `${route.method} ${route.path}`;
const ADMIN_ROUTES = ROUTES.filter((route) => route.family === 'admin');
const OAUTH_ROUTES = ROUTES.filter((route) => route.family === 'oauth');

let fx: LoopFixture;
const tokens = new Map<Caller, string>();
const sessions = new Map<Caller, { cookie: string; csrf: string }>();
const counts = { cases: 0, allowed: 0, denied: 0 };

/** Every route the running server answers, from fastify's own route tree (HEAD folded into GET). */
function servedRoutes(tree: string): string[] {
  const stack: string[] = [];
  const served: string[] = [];
  for (const line of tree.split('\n')) {
    const at = line.indexOf('/');
    if (at < 0) continue;
    const depth = at / 4 - 1;
    const match = /^(\S+)(?: \(([^)]*)\))?/.exec(line.slice(at))!;
    stack.length = depth;
    stack.push(match[1]!);
    for (const method of (match[2] ?? '').split(', ').filter((m) => m && m !== 'HEAD')) served.push(`${method} ${stack.join('')}`);
  }
  return served.sort();
}

/** A token with no rights cannot be made through the API (rights must be non-empty): stored directly, as an old or hand-edited row would be. */
async function noRightsToken(): Promise<string> {
  const id = `mat_${'N'.repeat(22)}`;
  const secret = 'S'.repeat(43);
  await fx.app.store.adminTokens.insert({ id, humanId: fx.admin.id, label: 'no rights', rights: [], secretHash: createHash('sha256').update(secret).digest('base64url'), createdAt: fx.clock.now(), expiresAt: null, revokedAt: null });
  return `${id}.${secret}`;
}

async function humanWithRoles(roles: ConsoleRole[], name: string): Promise<string> {
  const ctx = { actor: fx.admin.id, requestId: REQ };
  const human = await fx.app.directory.addHuman({ name }, ctx);
  const set = await fx.app.http.inject({ method: 'POST', url: `/admin/v1/humans/${human.id}/roles`, headers: { authorization: `Bearer ${fx.secrets.admin}` }, payload: { roles } });
  assert.equal(set.statusCode, 200, set.body);
  return human.id;
}

before(async () => {
  fx = await startLoopFixture({ config: { metrics: { bearerToken: METRICS_TOKEN }, limits: { enabled: false } } });
  const ctx = { actor: fx.admin.id, requestId: REQ, callerRights: ['admin'] as AdminRight[] };
  tokens.set('no-rights', await noRightsToken());
  for (const role of CONSOLE_ROLES) {
    const rights = rightsOfRoles([role]);
    tokens.set(role, (await fx.app.adminTokens.create({ humanId: fx.admin.id, label: role, rights }, ctx)).secret);
  }
  for (const caller of ['no-rights', ...CONSOLE_ROLES] as const) {
    const humanId = await humanWithRoles(caller === 'no-rights' ? [] : [caller], `lp-${caller}`);
    const value = await fx.app.console.auth.startSession(humanId, 'passkey', REQ, true);
    const session = await fx.app.console.auth.loadSession(value);
    sessions.set(caller, { cookie: `${SESSION_COOKIE}=${value}`, csrf: session!.csrf });
  }
});
after(async () => {
  await fx.close();
  process.stdout.write(`# least-privilege matrix: ${counts.cases} route × caller cases, ${counts.allowed} allowed, ${counts.denied} denied\n`);
});

function concrete(path: string): string {
  return path.replace(/:[a-z]+/gi, ID);
}

function problemCode(response: LightMyRequestResponse): string | undefined {
  try {
    return (JSON.parse(response.body) as { code?: string }).code;
  } catch {
    return /ERR_[A-Z_]+/.exec(response.body)?.[0];
  }
}

test('every route the server serves is classified here, and every admin route and console page declares its right', () => {
  const classified = new Set([...ROUTES.map(keyOf), ...CONSOLE_PAGES.map(keyOf), ...Object.keys(OTHER_ROUTES)]);
  const served = servedRoutes(fx.app.http.printRoutes({ commonPrefix: false }));
  assert.ok(served.length >= 90, `${served.length} routes`);
  assert.deepEqual(served.filter((route) => !classified.has(route)), [], 'served but not in the route table, the console pages or this file');
  assert.deepEqual([...classified].filter((route) => !served.includes(route)).sort(), [], 'classified but not served');
  for (const route of ADMIN_ROUTES) assert.ok(route.right && (ADMIN_RIGHTS as readonly string[]).includes(route.right), `${keyOf(route)} declares no right`);
  for (const route of OAUTH_ROUTES) assert.ok(OAUTH_ACCESS[keyOf(route)], `${keyOf(route)} (OAuth) is not classified public/agent/audience`);
  for (const route of OAUTH_ROUTES) {
    const agentStep = route.steps.includes(authenticateClient as never);
    assert.equal(agentStep, OAUTH_ACCESS[keyOf(route)] === 'agent', `${keyOf(route)}: authenticateClient step vs. the table`);
  }
  for (const page of CONSOLE_PAGES) {
    if (page.public) assert.ok(PUBLIC_PAGES.has(keyOf(page)), `${keyOf(page)} is public but not in PUBLIC_PAGES`);
    else assert.ok(page.right || SESSION_ONLY.has(keyOf(page)), `${keyOf(page)} needs a session but declares no right`);
  }
});

test('the hand-written expectations for sensitive routes agree with the declared rights and the role table', () => {
  const allowedRoles = (right: AdminRight | undefined) => CONSOLE_ROLES.filter((role) => right !== undefined && hasRight(rightsOfRoles([role]), right));
  const routes = new Map<string, AdminRight | undefined>([...ADMIN_ROUTES, ...CONSOLE_PAGES].map((r) => [keyOf(r), r.right]));
  for (const [key, roles] of Object.entries({ ...SENSITIVE, ...SENSITIVE_PAGES })) {
    assert.ok(routes.has(key), `${key} no longer exists`);
    assert.deepEqual(allowedRoles(routes.get(key)), [...roles], `${key} (declared right ${routes.get(key)})`);
  }
  // The role table itself: only admin may manage tokens, rotate keys, write humans or findings.
  for (const right of ['tokens:manage', 'keys:rotate', 'humans:write', 'findings:write'] as const)
    assert.deepEqual(CONSOLE_ROLES.filter((role) => ROLE_RIGHTS[role].includes(right)), [], right);
});

// ─── admin API: a token holding exactly the role's rights ───

for (const route of ADMIN_ROUTES) {
  describe(`admin ${keyOf(route)} (${route.right})`, () => {
    for (const caller of CALLERS) {
      const allowed = caller !== 'none' && caller !== 'no-rights' && hasRight(rightsOfRoles([caller]), route.right!);
      test(`${caller} → ${allowed ? 'allowed' : caller === 'none' ? '401' : '403'}`, async () => {
        const secret = tokens.get(caller);
        const response = await fx.app.http.inject({ method: route.method, url: concrete(route.path), headers: secret ? { authorization: `Bearer ${secret}` } : {} });
        const code = problemCode(response);
        counts.cases += 1;
        assert.ok(response.statusCode < 500, `${response.statusCode} ${response.body}`);
        if (allowed) {
          counts.allowed += 1;
          assert.ok(response.statusCode !== 401 && code !== 'ERR_ADMIN_FORBIDDEN', `${response.statusCode} ${response.body}`);
          return;
        }
        counts.denied += 1;
        if (caller === 'none') assert.deepEqual([response.statusCode, code], [401, 'ERR_ADMIN_UNAUTHENTICATED']);
        else {
          assert.deepEqual([response.statusCode, code], [403, 'ERR_ADMIN_FORBIDDEN'], response.body);
          assert.equal((JSON.parse(response.body) as { right: string }).right, route.right);
        }
      });
    }
    test('a console session cookie is no admin credential → 401', async () => {
      const response = await fx.app.http.inject({ method: route.method, url: concrete(route.path), headers: { cookie: sessions.get('admin')!.cookie } });
      assert.deepEqual([response.statusCode, problemCode(response)], [401, 'ERR_ADMIN_UNAUTHENTICATED']);
    });
  });
}

// ─── console: a signed-in session per role ───

function pageRequest(page: ConsolePage, caller: Caller) {
  const session = sessions.get(caller);
  const headers: Record<string, string> = session ? { cookie: session.cookie } : {};
  if (page.method === 'GET') return { method: page.method, url: concrete(page.path), headers };
  const origin = fx.app.console.origin;
  const body = page.body === 'json' ? { headers: { ...headers, origin, 'content-type': 'application/json', 'x-csrf-token': session?.csrf ?? '' }, payload: '{}' } : { headers: { ...headers, origin, 'content-type': 'application/x-www-form-urlencoded' }, payload: `_csrf=${session?.csrf ?? ''}` };
  return { method: page.method, url: concrete(page.path), ...body };
}

for (const page of CONSOLE_PAGES.filter((p) => !p.public)) {
  describe(`console ${keyOf(page)} (${page.right ?? 'session'})`, () => {
    for (const caller of CALLERS) {
      const allowed = caller !== 'none' && (page.right === undefined || (caller !== 'no-rights' && hasRight(rightsOfRoles([caller]), page.right)));
      // Signing out ends the session: that case runs last, on a session of its own.
      if (keyOf(page) === 'POST /console/signout' && caller !== 'none') continue;
      test(`${caller} → ${allowed ? 'allowed' : caller === 'none' ? 'sign-in' : '403'}`, async () => {
        const response = await fx.app.http.inject(pageRequest(page, caller));
        const code = problemCode(response);
        counts.cases += 1;
        assert.ok(response.statusCode < 500, `${response.statusCode} ${response.body.slice(0, 300)}`);
        if (allowed) {
          counts.allowed += 1;
          assert.ok(response.statusCode !== 401 && code !== 'ERR_ADMIN_FORBIDDEN' && !String(response.headers.location ?? '').startsWith('/console/signin'), `${response.statusCode} ${code}`);
          return;
        }
        counts.denied += 1;
        if (caller !== 'none') assert.deepEqual([response.statusCode, code], [403, 'ERR_ADMIN_FORBIDDEN']);
        else if (page.method === 'GET') assert.deepEqual([response.statusCode, String(response.headers.location).split('?')[0]], [303, '/console/signin']);
        else assert.deepEqual([response.statusCode, code], [401, 'ERR_CONSOLE_UNAUTHENTICATED']);
      });
    }
    test('an admin token is no console credential', async () => {
      const response = await fx.app.http.inject({ ...pageRequest(page, 'none'), headers: { ...pageRequest(page, 'none').headers, authorization: `Bearer ${fx.secrets.admin}` } });
      assert.ok(response.statusCode === 303 || (response.statusCode === 401 && problemCode(response) === 'ERR_CONSOLE_UNAUTHENTICATED'), `${response.statusCode}`);
    });
  });
}

test('console sign-out: any signed-in session may end itself, and the cookie is dead afterwards', async () => {
  const humanId = await humanWithRoles([], 'lp-signout');
  const value = await fx.app.console.auth.startSession(humanId, 'passkey', REQ, false);
  const csrf = (await fx.app.console.auth.loadSession(value))!.csrf;
  const out = await fx.app.http.inject({ method: 'POST', url: '/console/signout', headers: { cookie: `${SESSION_COOKIE}=${value}`, origin: fx.app.console.origin, 'content-type': 'application/x-www-form-urlencoded' }, payload: `_csrf=${csrf}` });
  assert.equal(out.statusCode, 303);
  assert.equal(await fx.app.console.auth.loadSession(value), null);
});

test('public console pages answer without a session (never a redirect to sign-in, never 5xx)', async () => {
  for (const page of CONSOLE_PAGES.filter((p) => p.public)) {
    const response = await fx.app.http.inject(pageRequest(page, 'none'));
    assert.ok(response.statusCode < 500 && !String(response.headers.location ?? '').startsWith('/console/signin?'), `${keyOf(page)}: ${response.statusCode}`);
    assert.notEqual(problemCode(response), 'ERR_CONSOLE_UNAUTHENTICATED', keyOf(page));
  }
});

test('the console event stream needs a session (ERR_CONSOLE_UNAUTHENTICATED), an admin token is not one', async () => {
  for (const headers of [{}, { authorization: `Bearer ${fx.secrets.admin}` }]) {
    const response = await fx.app.http.inject({ method: 'GET', url: '/console/events', headers });
    assert.deepEqual([response.statusCode, problemCode(response)], [401, 'ERR_CONSOLE_UNAUTHENTICATED']);
  }
});

test('ops: /healthz and /readyz are open; /metrics with metrics.bearerToken refuses everyone else (ERR_OPS_METRICS_UNAUTHENTICATED)', async () => {
  assert.equal((await fx.app.http.inject({ method: 'GET', url: OPS_PATHS.health })).statusCode, 200);
  assert.equal((await fx.app.http.inject({ method: 'GET', url: OPS_PATHS.ready })).statusCode, 200);
  for (const authorization of [undefined, `Bearer ${fx.secrets.admin}`, `Bearer ${METRICS_TOKEN}x`, `Basic ${Buffer.from(`x:${METRICS_TOKEN}`).toString('base64')}`]) {
    const response = await fx.app.http.inject({ method: 'GET', url: OPS_PATHS.metrics, headers: authorization ? { authorization } : {} });
    assert.deepEqual([response.statusCode, problemCode(response)], [401, 'ERR_OPS_METRICS_UNAUTHENTICATED'], String(authorization));
  }
  assert.equal((await fx.app.http.inject({ method: 'GET', url: OPS_PATHS.metrics, headers: { authorization: `Bearer ${METRICS_TOKEN}` } })).statusCode, 200);
});

// ─── OAuth: client authentication where the specs require it ───

/** Bodies that pass each agent route's schema, so the request reaches client authentication. */
const AGENT_BODIES: Record<string, string> = {
  'POST /attest': JSON.stringify({ nonce: 'n', evidence: [{ attestor: 'code-digest', evidence: {} }] }),
  'POST /attest/tpm/enrol': JSON.stringify({ ak_public: 'AAAA', ek_public: 'AAAA', ek_certificate: 'AAAA' }),
  'POST /attest/tpm/activate': JSON.stringify({ enrolment: 'e', secret: 'AAAA' }),
};

function oauthRequest(route: RouteSpec, headers: Record<string, string>) {
  const url = concrete(route.path);
  const agentBody = AGENT_BODIES[keyOf(route)];
  if (agentBody) return { method: route.method, url, headers: { ...headers, 'content-type': 'application/json' }, payload: agentBody };
  if (route.method === 'GET' || route.method === 'DELETE') return { method: route.method, url: route.method === 'DELETE' || route.path === '/ssf/status' ? `${url}?stream_id=x` : url, headers };
  if (route.body === 'json') return { method: route.method, url, headers: { ...headers, 'content-type': 'application/json' }, payload: '{"stream_id":"x","status":"enabled","subject":{"format":"opaque","id":"x"},"delivery":{"method":"urn:ietf:rfc:8935","endpoint_url":"https://rs.example.com/ssf"},"events_requested":[]}' };
  return { method: route.method, url, headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded' }, payload: 'grant_type=urn:openid:params:grant-type:ciba&token=x&auth_req_id=x&login_hint=x' };
}

for (const route of OAUTH_ROUTES.filter((r) => OAUTH_ACCESS[keyOf(r)] !== 'public')) {
  const access = OAUTH_ACCESS[keyOf(route)] as Exclude<OAuthAccess, 'public'>;
  const want: ErrorCode = route.path.startsWith('/ssf/') ? SSF_REFUSAL : OAUTH_REFUSAL[access];
  describe(`oauth ${keyOf(route)} (${access})`, () => {
    for (const caller of CALLERS) {
      test(`${caller}'s admin token and console session are no client credential → ${want}`, async () => {
        const headers: Record<string, string> = {};
        if (tokens.has(caller)) headers.authorization = `Bearer ${tokens.get(caller)}`;
        if (sessions.has(caller)) headers.cookie = sessions.get(caller)!.cookie;
        const response = await fx.app.http.inject(oauthRequest(route, headers));
        counts.cases += 1;
        counts.denied += 1;
        const body = JSON.parse(response.body) as { error?: string };
        assert.equal(response.statusCode, ERROR_CATALOGUE[want].status, response.body);
        assert.equal(body.error, ERROR_CATALOGUE[want].oauth, response.body);
      });
    }
  });
}

test('public OAuth routes answer anyone (discovery, JWKS, challenge, status lists, SSF configuration)', async () => {
  for (const route of OAUTH_ROUTES.filter((r) => OAUTH_ACCESS[keyOf(r)] === 'public')) {
    const response = await fx.app.http.inject({ method: route.method, url: route.path === '/statuslists/:id' ? '/statuslists/1' : route.path });
    assert.ok(response.statusCode === 200 || (route.path === '/statuslists/:id' && response.statusCode === 404), `${keyOf(route)} ${response.statusCode}`);
  }
});

describe('introspection: only the token audience\'s own resource server (RFC 7662 §2.1, PROTOCOL §7)', () => {
  let token: string;
  before(async () => {
    token = await mintAccessToken();
  });
  const introspect = (form: Record<string, string>, headers: Record<string, string> = {}) => fx.post('/introspect', { token, ...form }, headers);
  const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;

  test('the audience itself: active', async () => {
    assert.equal((await introspect({ client_id: API, client_secret: SECRETS[API]! })).body.active, true);
  });
  test('no client authentication → 401 invalid_client (ERR_INTROSPECT_CLIENT)', async () => {
    assertOAuthError(await introspect({}), 'ERR_INTROSPECT_CLIENT', 'resource server authentication failed');
  });
  test('a client_id without a secret → ERR_INTROSPECT_CLIENT', async () => {
    assertOAuthError(await introspect({ client_id: API }), 'ERR_INTROSPECT_CLIENT', 'resource server authentication failed');
  });
  test('an unknown client → ERR_INTROSPECT_CLIENT', async () => {
    assertOAuthError(await introspect({ client_id: 'https://unknown.example.com', client_secret: SECRETS[API]! }), 'ERR_INTROSPECT_CLIENT', 'resource server authentication failed');
  });
  test("another audience's id with this audience's secret → ERR_INTROSPECT_CLIENT", async () => {
    assertOAuthError(await introspect({ client_id: OTHER_API, client_secret: SECRETS[API]! }), 'ERR_INTROSPECT_CLIENT', 'resource server authentication failed');
  });
  test('another audience, correctly authenticated: active false, nothing about the token', async () => {
    assert.deepEqual((await introspect({ client_id: OTHER_API, client_secret: SECRETS[OTHER_API]! })).body, { active: false });
  });
  test('an agent authenticating with private_key_jwt is no resource server → ERR_INTROSPECT_CLIENT', async () => {
    assertOAuthError(await introspect(await clientAuth(fx.agent)), 'ERR_INTROSPECT_CLIENT', 'resource server authentication failed');
  });
  test('an admin token as Bearer → ERR_INTROSPECT_CLIENT (malformed Basic)', async () => {
    assertOAuthError(await introspect({}, { authorization: `Bearer ${fx.secrets.admin}` }), 'ERR_INTROSPECT_CLIENT', 'malformed Basic credentials');
  });
  test('Basic and client_secret together → ERR_INTROSPECT_CLIENT (one method only, RFC 6749 §2.3)', async () => {
    assertOAuthError(await introspect({ client_secret: SECRETS[API]! }, { authorization: basic(API, SECRETS[API]!) }), 'ERR_INTROSPECT_CLIENT', 'use one client authentication method');
  });
  test('Basic with a wrong secret → ERR_INTROSPECT_CLIENT', async () => {
    assertOAuthError(await introspect({}, { authorization: basic(API, 'wrong') }), 'ERR_INTROSPECT_CLIENT', 'resource server authentication failed');
  });
});

describe('revocation: only the agent holding the token (RFC 7009 §2.1, PROTOCOL §7)', () => {
  const introspectActive = async (token: string) => (await fx.post('/introspect', { token, client_id: API, client_secret: SECRETS[API]! })).body.active;

  test('no client authentication → 401 invalid_client (ERR_CLIENT_AUTH_MISSING), the token lives on', async () => {
    const token = await mintAccessToken();
    assertOAuthError(await fx.post('/revoke', { token }), 'ERR_CLIENT_AUTH_MISSING', /client authentication/i);
    assert.equal(await introspectActive(token), true);
  });
  test("the audience's introspection credential is no client credential at /revoke → ERR_CLIENT_AUTH_MISSING", async () => {
    const token = await mintAccessToken();
    const response = await fx.post('/revoke', { token, client_id: API, client_secret: SECRETS[API]! });
    assert.equal(response.status, 401, JSON.stringify(response.body));
    assert.equal(response.body.error, 'invalid_client');
    assert.equal(await introspectActive(token), true);
  });
  test('an admin token as Bearer at /revoke → ERR_CLIENT_AUTH_MISSING', async () => {
    const token = await mintAccessToken();
    assertOAuthError(await fx.post('/revoke', { token }, { authorization: `Bearer ${fx.secrets.admin}` }), 'ERR_CLIENT_AUTH_MISSING', /client authentication/i);
    assert.equal(await introspectActive(token), true);
  });
  test('another agent, correctly authenticated: 200 (RFC 7009 §2.2) and nothing is revoked', async () => {
    const token = await mintAccessToken();
    const thief = await fx.addAgent();
    const response = await fx.post('/revoke', { token, ...(await clientAuth(thief)) });
    assert.equal(response.status, 200);
    assert.equal(await introspectActive(token), true);
  });
  test('the holder: 200 and the token is inactive', async () => {
    const token = await mintAccessToken();
    assert.equal((await fx.post('/revoke', { token, ...(await clientAuth(fx.agent)) })).status, 200);
    assert.equal(await introspectActive(token), false);
  });
});

/** A real access token for API: ask, approve (as alice) once, then mint through the SDK. */
let approved: AgentClient | null = null;
async function mintAccessToken(): Promise<string> {
  if (!approved) {
    const client = fx.agent.client();
    const { authReqId } = await client.ask({
      loginHint: fx.alice.id, bindingMessage: 'Least privilege', task: { purpose: 'Least privilege', audience: API, actions: ['read'], notAfter: new Date(fx.clock.now() + 3_600_000) },
    });
    const approval = await fx.adminApi('POST', `/admin/v1/mandates/${await fx.pendingMandateOf(fx.agent.agent.id)}/approve`, fx.secrets.alice);
    assert.equal(approval.status, 200, JSON.stringify(approval.body));
    await client.waitForApproval(authReqId, { interval: 0.05, timeoutMs: 10_000 });
    approved = client;
  }
  return (await approved.mint({ resource: API })).accessToken;
}
