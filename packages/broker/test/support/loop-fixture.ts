import assert from 'node:assert/strict';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose';
import {
  createAgentClient, createVerifier, nodeHttpAdapter, requireAction,
  type AgentClient, type AgentClientOptions, type EvidenceItem, type EvidenceProvider, type Verifier, type VerifierOptions,
} from '@mandate/sdk';
import { CLIENT_ASSERTION_TYPE } from '@mandate/sdk/protocol';
import { createApp, type App } from '../../src/app.ts';
import { startLocalIssuer, type LocalIssuer } from '../../src/attestors/oidc-token/local-issuer.ts';
import { loadConfig, type ConfigFlags } from '../../src/config/load.ts';
import type { AuditEventInput } from '../../src/core/audit-chain.ts';
import { ERROR_CATALOGUE, type ErrorCode } from '../../src/core/errors.ts';
import type { Agent, Human } from '../../src/core/model.ts';
import type { Attestor } from '../../src/ports/attestor.ts';
import type { Store } from '../../src/ports/store.ts';
import { startTestApp } from './app-fixture.ts';
import type { DestinationStream } from 'pino';

/**
 * Test support for the core loop: the real app listening on 127.0.0.1 with its issuer set to the
 * real URL (so DPoP `htu` and assertion `aud` match), the oidc-token attestor trusting a real local
 * OpenID issuer, code-digest, a policy requiring both, two human owners, registered agents with
 * generated keys, SDK agent clients wired to it, and a sample resource server using the SDK verifier.
 */

/** The audience every mandate in these tests is for. */
export const API = 'https://api.example.com';
/** The audience opted in for autonomous (client_credentials) tokens of the main agent. */
export const AUTO_API = 'https://auto.example.com';
/** An audience no test token is for (introspection by another resource server). */
export const OTHER_API = 'https://other.example.com';
export const SECRETS: Record<string, string> = { [API]: 'api-introspection-secret', [AUTO_API]: 'auto-introspection-secret', [OTHER_API]: 'other-introspection-secret' };
/** The GitHub repository id the policy pins (the local issuer's default claim). */
export const REPOSITORY_ID = '731337001';
export const CODE_DIGEST = `sha256:${createHash('sha256').update('the agent binary').digest('hex')}`;
/** code-digest evidence naming this digest is reported contraindicated (no v1 attestor does that on its own). */
export const CONTRAINDICATED_DIGEST = `sha256:${createHash('sha256').update('a known-bad agent binary').digest('hex')}`;
/** The datatypes API admits (PROTOCOL §4); OTHER_API and AUTO_API admit none. */
export const API_DATATYPES = ['items', 'comments'];
/** Attestation results stay fresh this long: shorter than the 5-minute token cap, so the cap shows. */
export const FRESHNESS_SECONDS = 120;
export const MAX_PENDING = 4;
/** A fixed audience the local issuer's tokens may carry instead of the bound one (replayable: `warning`). */
export const FIXED_AUDIENCE = 'mandate-fixed-audience';
/** An agent id no agent has: the `scoped` policy admits only it. */
export const STRANGER_AGENT = 'agt_SSSSSSSSSSSSSSSSSSSSSS';

/** One clock for broker, SDK clients, local issuer and resource servers; tests move it forward. */
export interface TestClock {
  now(): number;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  advance(ms: number): void;
  /** Stops time (for checks about intervals) until `thaw`, which resumes from where it stood. */
  freeze(): void;
  thaw(): void;
}

export function createTestClock(): TestClock {
  let offset = 0;
  let frozenAt: number | null = null;
  return {
    now: () => frozenAt ?? Date.now() + offset,
    sleep: (ms, signal) => sleep(ms, undefined, signal ? { signal } : {}),
    advance: (ms) => {
      offset += ms;
      if (frozenAt !== null) frozenAt += ms;
    },
    freeze: () => void (frozenAt = Date.now() + offset),
    thaw: () => {
      if (frozenAt !== null) offset = frozenAt - Date.now();
      frozenAt = null;
    },
  };
}

/** A DPoP key pair with what raw proofs need. */
export interface DpopKeyPair {
  pair: CryptoKeyPair;
  publicJwk: JWK;
  jkt: string;
}

export async function generateDpopKey(): Promise<DpopKeyPair> {
  const pair = await generateKeyPair('ES256');
  const { kty, crv, x, y } = await exportJWK(pair.publicKey);
  const publicJwk = { kty, crv, x, y } as JWK;
  return { pair, publicJwk, jkt: await calculateJwkThumbprint(publicJwk, 'sha256') };
}

/** A registered agent, its private key, and factories for SDK clients and raw requests. */
export interface LoopAgent {
  agent: Agent;
  privateJwk: JWK;
  /** An SDK client with its own DPoP key (given or fresh) and the fixture's evidence. */
  client(options?: Partial<AgentClientOptions>): AgentClient;
  /** A raw private_key_jwt assertion (claims and header overridable). */
  assertion(claims?: Record<string, unknown>, header?: Record<string, unknown>): Promise<string>;
}

export interface WireResponse {
  status: number;
  headers: Headers;
  body: Record<string, unknown>;
}

export interface AuditControl {
  /** When set, commits of events for which it returns true fail (the sink throws). */
  fail: ((inputs: readonly AuditEventInput[]) => boolean) | null;
  /** When set, commits of events for which `holds` returns true wait for `until` first. */
  gate: { holds: (inputs: readonly AuditEventInput[]) => boolean; until: Promise<void> } | null;
}

/**
 * The store with `control` in front of every audit commit: the sink's own appends and the
 * one-transaction mint (`commitIssue`), whose audit rows commit inside the store's transaction. A
 * failure is thrown before the transaction starts, so nothing of it is stored, as after a failed commit.
 */
export function controlledAudit(control: AuditControl): (store: Store) => Store {
  const checked = async (inputs: readonly AuditEventInput[]) => {
    if (control.fail?.(inputs)) throw new Error('simulated audit store failure');
    if (control.gate?.holds(inputs)) await control.gate.until;
  };
  return (store) => {
    const { append } = store.audit;
    const { commitIssue } = store.credentials;
    store.audit = { ...store.audit, append: async (chain, inputs, time, seal) => (await checked(inputs), append(chain, inputs, time, seal)) };
    if (commitIssue) store.credentials = { ...store.credentials, commitIssue: async (write, audit, events) => (await checked(events), commitIssue(write, audit, events)) };
    return store;
  };
}

export interface LoopFixture {
  issuer: string;
  clock: TestClock;
  oidc: LocalIssuer;
  /** A trusted issuer whose keys cannot be fetched. */
  down: LocalIssuer;
  /** The running app (replaced by `restart`). */
  readonly app: App;
  admin: Human;
  alice: Human;
  bob: Human;
  /** Admin tokens of each human with the mandate rights (the bootstrap admin's holds `admin`). */
  secrets: { admin: string; alice: string; bob: string };
  /** Owned by alice and bob (both approvers); opted in for autonomous tokens at AUTO_API. */
  agent: LoopAgent;
  auditControl: AuditControl;
  evidence: EvidenceProvider;
  addHuman(name: string): Promise<{ human: Human; secret: string }>;
  /** Owned by alice unless told; policy `default` unless told. */
  addAgent(options?: { owners?: string[]; approvers?: string[]; policy?: string }): Promise<LoopAgent>;
  /** An admin API call over HTTP. */
  adminApi(method: 'GET' | 'POST', path: string, secret: string, body?: unknown): Promise<WireResponse>;
  /** A form POST to a broker endpoint (an array repeats a parameter), with extra headers (DPoP, attestation). */
  post(path: string, form: Record<string, string | string[] | undefined>, headers?: Record<string, string>): Promise<WireResponse>;
  /** A JSON POST to a broker endpoint (`/attest`). */
  postJson(path: string, body: unknown, headers?: Record<string, string>): Promise<WireResponse>;
  /** The newest audit events, through the admin API. */
  auditEvents(limit?: number): Promise<Array<Record<string, unknown>>>;
  /** A DPoP proof for a broker endpoint (or any URL), made with jose. */
  proof(key: DpopKeyPair, url: string, claims?: Record<string, unknown>, method?: string): Promise<string>;
  /** The newest pending mandate of an agent (the one the last `ask` created). */
  pendingMandateOf(agentId: string): Promise<string>;
  restart(): Promise<void>;
  close(): Promise<void>;
}

const MANDATE_RIGHTS = ['mandates:read', 'mandates:decide', 'mandates:revoke'] as const;

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createNetServer().once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('base64url');
}

function brokerConfig(oidcIssuer: string, downIssuer: string, autonomousAgents: string[], extra: Record<string, unknown>): Record<string, unknown> {
  const both = [{ attestor: 'oidc-token', claims: { repository_id: REPOSITORY_ID } }, { attestor: 'code-digest', minStatus: 'warning' }];
  const audience = (uri: string, actions: string[], datatypes: string[] = []) => ({ actions, datatypes, introspectionSecretSha256: sha256(SECRETS[uri]!) });
  // `extra.attestation` adds attestors and policies to the fixture's own.
  // `extra.audiences` adds audiences to the fixture's own.
  const { attestation: more = {}, audiences: moreAudiences = {}, ...rest } = extra as {
    attestation?: { attestors?: Record<string, unknown>; policies?: Record<string, unknown> }; audiences?: Record<string, unknown>;
  };
  return {
    limits: { enabled: false }, // on when a test's `config.limits` says so (test/rate-limits.test.ts)
    ...rest,
    ciba: { interval: 1, maxPendingPerAgent: MAX_PENDING, maxRequestedExpiry: '1h' },
    audiences: {
      [API]: audience(API, ['read', 'write'], API_DATATYPES),
      [OTHER_API]: audience(OTHER_API, ['read']),
      [AUTO_API]: { ...audience(AUTO_API, ['read']), ...(autonomousAgents.length > 0 ? { autonomous: { agents: autonomousAgents, actions: ['read'] } } : {}) },
      ...moreAudiences,
    },
    attestation: {
      attestors: {
        'oidc-token': {
          issuers: [
            { issuer: oidcIssuer, jwksUri: `${oidcIssuer}/jwks`, allowedAlgs: ['RS256'], claims: ['repository_id', 'sha'], allowFixedAudience: FIXED_AUDIENCE },
            // Never reachable: its keys cannot be fetched.
            { issuer: downIssuer, jwksUri: `${downIssuer}/jwks` },
          ],
        },
        'code-digest': {},
        ...more.attestors,
      },
      policies: {
        ...more.policies,
        default: { freshness: `${FRESHNESS_SECONDS}s`, anyOf: [{ allOf: both }] },
        scoped: { agents: [STRANGER_AGENT], anyOf: [{ allOf: both }] },
        equal: { anyOf: [{ allOf: both }], equal: [['oidc-token.sha', 'code-digest.digest']] },
      },
    },
  };
}

/** Starts everything (`config` adds top-level config keys, e.g. `dpop`); `close()` stops it and removes the data directory. */
export async function startLoopFixture(options: { config?: Record<string, unknown>; logDestination?: DestinationStream; logLevel?: string } = {}): Promise<LoopFixture> {
  const extra = options.config ?? {};
  const clock = createTestClock();
  const oidc = await startLocalIssuer(clock.now);
  const down = await startLocalIssuer(clock.now);
  down.failing = true;
  const port = await freePort();
  const issuer = `http://127.0.0.1:${port}`;
  const auditControl: AuditControl = { fail: null, gate: null };
  const store = controlledAudit(auditControl);
  // The test-only bad digest: code-digest reports it contraindicated (PROTOCOL §3).
  const attestors = (built: ReadonlyMap<string, Attestor>): ReadonlyMap<string, Attestor> => {
    const codeDigest = built.get('code-digest');
    if (!codeDigest) return built;
    const verify: Attestor['verify'] = async (evidence, binding) => {
      const result = await codeDigest.verify(evidence, binding);
      return result.claims.digest === CONTRAINDICATED_DIGEST ? { ...result, status: 'contraindicated' } : result;
    };
    return new Map([...built, ['code-digest', { ...codeDigest, verify }]]);
  };
  // `logDestination` captures the server's JSON log lines at `info` (test/operability.test.ts).
  const logging = options.logDestination ? { logLevel: options.logLevel ?? 'info', logDestination: options.logDestination } : null;
  const overrides = { clock, store, attestors, ...(logging ? { logDestination: logging.logDestination } : {}) };
  const t = await startTestApp({ flags: { port: String(port), issuer, ...(logging ? { logLevel: logging.logLevel } : {}) }, config: brokerConfig(oidc.issuer, down.issuer, [], extra), overrides });
  const flags: ConfigFlags = { data: join(t.dir, 'data'), port: String(port), issuer, logLevel: logging?.logLevel ?? 'silent', config: join(t.dir, 'config.json') };
  let app = t.app;
  const ctx = { actor: t.admin.id, requestId: 'req_AAAAAAAAAAAAAAAAAAAAAA' };

  const evidence: EvidenceProvider = async ({ audience }): Promise<EvidenceItem[]> => [
    { attestor: 'oidc-token', evidence: await oidc.sign({ aud: audience }) },
    { attestor: 'code-digest', evidence: { digest: CODE_DIGEST } },
  ];

  const tokenFor = async (humanId: string) =>
    (await app.adminTokens.create({ humanId, label: 'mandates', rights: [...MANDATE_RIGHTS] }, { ...ctx, callerRights: ['admin'] })).secret;

  const addHuman = async (name: string) => {
    const human = await app.directory.addHuman({ name }, ctx);
    return { human, secret: await tokenFor(human.id) };
  };

  let agents = 0;
  const addAgent = async (owners: string[], approvers?: string[], policy = 'default'): Promise<LoopAgent> => {
    const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
    const { kty, crv, x, y } = await exportJWK(publicKey);
    const agent = await app.directory.addAgent({ name: `loop-agent-${++agents}`, owners, ...(approvers ? { approvers } : {}), policy, jwk: { kty, crv, x, y } }, ctx);
    const privateJwk = await exportJWK(privateKey);
    return {
      agent,
      privateJwk,
      client: (options = {}) => createAgentClient({ issuer, clientId: agent.id, clientKey: privateJwk, evidence, clock, ...options }),
      assertion: async (claims = {}, header = {}) => {
        const now = Math.floor(clock.now() / 1000);
        const payload: Record<string, unknown> = { iss: agent.id, sub: agent.id, aud: issuer, iat: now, exp: now + 30, jti: randomUUID(), ...claims };
        for (const [name, value] of Object.entries(payload)) if (value === undefined) delete payload[name];
        return new SignJWT(payload).setProtectedHeader({ alg: 'ES256', ...header }).sign(privateKey);
      },
    };
  };

  const alice = await addHuman('alice');
  const bob = await addHuman('bob');
  const main = await addAgent([alice.human.id, bob.human.id]);

  const listen = async (next: App) => {
    await next.http.listen({ host: '127.0.0.1', port });
    app = next;
  };
  const reopen = async () => {
    await app.close();
    await listen(await createApp(loadConfig({ flags, env: {} }), overrides));
  };
  // The autonomous opt-in names the agent's id, known only now: write it to the config and reopen.
  writeFileSync(flags.config!, JSON.stringify(brokerConfig(oidc.issuer, down.issuer, [main.agent.id], extra)));
  await reopen();

  const call = async (url: string, init: RequestInit): Promise<WireResponse> => {
    const response = await fetch(url, init);
    const text = await response.text();
    return { status: response.status, headers: response.headers, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
  };

  return {
    issuer, clock, oidc, down, auditControl, evidence,
    get app() {
      return app;
    },
    admin: t.admin,
    alice: alice.human,
    bob: bob.human,
    secrets: { admin: t.adminSecret, alice: alice.secret, bob: bob.secret },
    agent: main,
    addHuman,
    addAgent: (options = {}) => addAgent(options.owners ?? [alice.human.id], options.approvers, options.policy),
    adminApi: (method, path, secret, body) =>
      call(issuer + path, {
        method,
        headers: { authorization: `Bearer ${secret}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      }),
    post: (path, form, headers = {}) => {
      const fields = new URLSearchParams();
      for (const [name, value] of Object.entries(form)) for (const v of value === undefined ? [] : [value].flat()) fields.append(name, v);
      return call(issuer + path, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body: fields.toString() });
    },
    postJson: (path, body, headers = {}) =>
      call(issuer + path, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) }),
    async auditEvents(limit = 20) {
      const response = await call(`${issuer}/admin/v1/audit/events?limit=${limit}`, { headers: { authorization: `Bearer ${t.adminSecret}` } });
      return response.body.events as Array<Record<string, unknown>>;
    },
    proof: (key, url, claims = {}, method = 'POST') => {
      const payload: Record<string, unknown> = { jti: randomBytes(12).toString('base64url'), htm: method, htu: url.startsWith('/') ? issuer + url : url, iat: Math.floor(clock.now() / 1000), ...claims };
      for (const [name, value] of Object.entries(payload)) if (value === undefined) delete payload[name];
      return new SignJWT(payload).setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk: key.publicJwk }).sign(key.pair.privateKey);
    },
    async pendingMandateOf(agentId) {
      const [newest] = await app.loop.decisions.list({ agentId, status: 'pending' }, 1);
      if (!newest) throw new Error(`no pending mandate for ${agentId}`);
      return newest.id;
    },
    restart: reopen,
    async close() {
      await app.close();
      await oidc.close();
      await down.close();
      rmSync(t.dir, { recursive: true, force: true });
    },
  };
}

/**
 * An OAuth error as the catalogue defines `code`: its status and RFC error, the message (the code
 * itself is not on the wire), `mandate_error` when given (absent otherwise), and no caching.
 */
export function assertOAuthError(response: WireResponse, code: ErrorCode, message: string | RegExp, mandateError?: string): void {
  const where = `${response.status} ${JSON.stringify(response.body)}`;
  const entry = ERROR_CATALOGUE[code];
  assert.equal(response.status, entry.status, where);
  assert.equal(response.body.error, entry.oauth, where);
  if (typeof message === 'string') assert.equal(response.body.error_description, message, where);
  else assert.match(String(response.body.error_description), message, where);
  assert.equal(response.body.mandate_error, mandateError, where);
  assert.equal(response.headers.get('cache-control'), 'no-store', where);
}

/** Client authentication form fields for a raw request. */
export async function clientAuth(agent: LoopAgent, claims?: Record<string, unknown>): Promise<Record<string, string>> {
  return { client_id: agent.agent.id, client_assertion_type: CLIENT_ASSERTION_TYPE, client_assertion: await agent.assertion(claims) };
}

/** A sample resource server on loopback: GET needs `read`, anything else `write` (SDK verifier + introspection). */
export interface ResourceServer {
  url: string;
  verifier: Verifier;
  close(): Promise<void>;
}

export async function startResourceServer(fx: LoopFixture, options: Partial<VerifierOptions> & { audience?: string } = {}): Promise<ResourceServer> {
  const audience = options.audience ?? API;
  let auth!: ReturnType<typeof nodeHttpAdapter>;
  const server: Server = createServer((req, res) => {
    void (async () => {
      try {
        const result = await auth.authenticate(req);
        requireAction(result, req.method === 'GET' ? 'read' : 'write');
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ agent: result.agentId, subject: result.subject, autonomous: result.autonomous }));
      } catch (error) {
        auth.reject(res, error);
      }
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const verifier = createVerifier({
    issuer: fx.issuer, audience, jwks: `${fx.issuer}/jwks`, publicUrl: url, now: fx.clock.now,
    introspection: { endpoint: `${fx.issuer}/introspect`, clientId: audience, clientSecret: SECRETS[audience]!, cacheTtlSeconds: 0 },
    ...options,
  });
  auth = nodeHttpAdapter(verifier);
  return {
    url, verifier,
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}

