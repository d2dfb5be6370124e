import assert from 'node:assert/strict';
import { KeyObject, randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { evidenceAudience } from '@mandate/sdk';
import { CLIENT_ATTESTATION_POP_TYP, CLIENT_ASSERTION_TYPE, GRANT_TYPE, TOKEN_TYPE } from '@mandate/sdk/protocol';
import { SignJWT } from 'jose';
import { ROUTES } from '../../src/http/routes.ts';
import { fuzz, type FuzzRun, type FuzzTally } from './fuzz-harness.ts';
import { FETCHABLE_HEADER_VALUE, familyOfRaw, HttpRejection, PARSER_REJECTIONS, rawText, viaFetch, viaSocket, type WireRequest } from './fuzz-http-wire.ts';
import { byteMutations, fieldMutations, jwsMutation, mutateBytes, mutatedJws, mutateFields, mutateString, nastyValue, stringMutations, type ByteMutation, type FieldMutation, type JwsMutation, type StringMutation } from './fuzz-mutate.ts';
import { API, AUTO_API, generateDpopKey, SECRETS, type DpopKeyPair, type LoopFixture } from './loop-fixture.ts';

/**
 * Fuzzing over a real socket: the broker listening on 127.0.0.1 (loop fixture), valid requests
 * built fresh for every input (real client assertions, DPoP proofs, attestation results, mandate
 * grants, access tokens), one part mutated, sent with fetch — or, as raw bytes, through node:net so
 * Node's HTTP parser, the header and body limits see broken framing too. Oracle: never a 5xx, every
 * error in the family's standard body, an answer (or a close) within 5 s, and the server still
 * mints afterwards.
 */



export type Template = 'token-exchange' | 'client-credentials' | 'bc-authorize' | 'attest' | 'introspect' | 'revoke' | 'challenge' | 'admin-agent' | 'admin-human' | 'admin-list';

export type Mutation =
  | { kind: 'none' }
  | { kind: 'form-field'; pick: number; edit: 'mutate' | 'delete' | 'repeat'; edits: StringMutation[] }
  | { kind: 'form-add'; name: string; value: string }
  | { kind: 'json-fields'; fields: FieldMutation[] }
  | { kind: 'assertion'; claim: string; value: unknown }
  | { kind: 'dpop'; jws: JwsMutation }
  | { kind: 'header'; name: string; edit: 'drop' | 'mutate' | 'double'; edits: StringMutation[] }
  | { kind: 'body-text'; edits: StringMutation[] }
  | { kind: 'content-type'; value: string }
  | { kind: 'oversize'; bytes: number }
  | { kind: 'big-header'; bytes: number }
  | { kind: 'raw'; bytes: ByteMutation[] }
  | { kind: 'raw-framing'; framing: 'chunked-bad' | 'length-short' | 'length-long' | 'length-twice' | 'te-and-length' | 'http10' | 'no-host' | 'bare-lf' };

export const TEMPLATES: readonly Template[] = ['token-exchange', 'client-credentials', 'bc-authorize', 'attest', 'introspect', 'revoke', 'challenge', 'admin-agent', 'admin-human', 'admin-list'];

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 2, arbitrary: fc.constant({ kind: 'none' as const }) },
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('form-field' as const), pick: fc.nat(), edit: fc.constantFrom('mutate' as const, 'mutate' as const, 'delete' as const, 'repeat' as const), edits: stringMutations }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('form-add' as const), name: fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom('resource', 'scope', 'audience', '__proto__', 'dpop_jkt', 'requested_token_type')), value: fc.string({ maxLength: 40 }) }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('json-fields' as const), fields: fieldMutations }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('assertion' as const), claim: fc.constantFrom('iss', 'sub', 'aud', 'exp', 'iat', 'jti', 'nbf', 'typ'), value: fc.oneof(nastyValue, fc.constant(undefined)) }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('dpop' as const), jws: jwsMutation }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('header' as const), name: fc.constantFrom('dpop', 'authorization', 'content-type', 'oauth-client-attestation', 'oauth-client-attestation-pop', 'host'), edit: fc.constantFrom('drop' as const, 'mutate' as const, 'double' as const), edits: stringMutations }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('body-text' as const), edits: stringMutations }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('content-type' as const), value: fc.constantFrom('application/json', 'application/x-www-form-urlencoded', 'application/x-www-form-urlencoded; charset=latin1', 'application/json; charset=utf-16', 'text/plain', 'multipart/form-data; boundary=x', 'application/jwt', '', ';;;', 'application/json;charset="utf-8"') }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('oversize' as const), bytes: fc.constantFrom(65_537, 70_000, 200_000, 1_100_000) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('big-header' as const), bytes: fc.constantFrom(8_000, 17_000, 40_000) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('raw' as const), bytes: byteMutations }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('raw-framing' as const), framing: fc.constantFrom('chunked-bad' as const, 'length-short' as const, 'length-long' as const, 'length-twice' as const, 'te-and-length' as const, 'http10' as const, 'no-host' as const, 'bare-lf' as const) }) },
);

/** A random request at any route of the table (the shape of fuzz-routes, but over the socket). */
const randomRequest = fc.record({
  route: fc.constantFrom(...ROUTES),
  contentType: fc.constantFrom('application/json', 'application/x-www-form-urlencoded', 'text/plain', ''),
  body: fc.oneof(fc.json(), fc.string({ maxLength: 200 }), fc.dictionary(fc.string({ maxLength: 12 }), fc.string({ maxLength: 40 })).map((d) => new URLSearchParams(d).toString())),
  query: fc.oneof(fc.constant(''), fc.string({ maxLength: 30 })),
  auth: fc.boolean(),
});

export const httpInput = fc.oneof(
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('template' as const), template: fc.constantFrom(...TEMPLATES), mutation }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('random' as const), request: randomRequest }) },
);

export type HttpInput = typeof httpInput extends fc.Arbitrary<infer T> ? T : never;

/** What the templates need: a real agent with a DPoP key, an attestation result, a grant and access tokens. */
export interface HttpFuzzContext {
  fx: LoopFixture;
  key: DpopKeyPair;
  dpopPrivate: KeyObject;
  attestation: string;
  attestedAt: number;
  grant: string;
  accessToken: string;
  mandateId: string;
}

export async function httpFuzzContext(fx: LoopFixture): Promise<HttpFuzzContext> {
  const key = await generateDpopKey();
  const sdk = fx.agent.client({ dpopKey: key.pair });
  const { authReqId } = await sdk.ask({
    loginHint: fx.alice.id, bindingMessage: 'Read the items',
    task: { purpose: 'Read the items', audience: API, actions: ['read'], notAfter: new Date(fx.clock.now() + 3_600_000) },
  });
  const mandateId = await fx.pendingMandateOf(fx.agent.agent.id);
  const approved = await fx.adminApi('POST', `/admin/v1/mandates/${mandateId}/approve`, fx.secrets.alice);
  assert.equal(approved.status, 200, JSON.stringify(approved.body));
  const { accessToken, grant } = await sdk.waitForApproval(authReqId, { interval: 0.05, timeoutMs: 10_000 });
  return { fx, key, dpopPrivate: KeyObject.from(key.pair.privateKey), attestation: (await sdk.attest()).attestation, attestedAt: Date.now(), grant, accessToken, mandateId };
}

/** Attestation results live FRESHNESS_SECONDS (120 s): long runs renew theirs. */
async function freshAttestation(ctx: HttpFuzzContext): Promise<string> {
  if (Date.now() - ctx.attestedAt > 60_000) {
    ctx.attestation = (await ctx.fx.agent.client({ dpopKey: ctx.key.pair }).attest()).attestation;
    ctx.attestedAt = Date.now();
  }
  return ctx.attestation;
}

async function clientAuthFields(ctx: HttpFuzzContext, m: Mutation): Promise<Record<string, string>> {
  // `typ` is a header member; every other mutated name is a claim (undefined removes it).
  const claims = m.kind === 'assertion' && m.claim !== 'typ' ? { [m.claim]: m.value } : {};
  const header = m.kind === 'assertion' && m.claim === 'typ' ? { typ: m.value } : {};
  const assertion = await ctx.fx.agent.assertion(claims, header);
  return { client_id: ctx.fx.agent.agent.id, client_assertion_type: CLIENT_ASSERTION_TYPE, client_assertion: assertion };
}

function dpopProof(ctx: HttpFuzzContext, path: string, m: Mutation, extra: Record<string, unknown> = {}): string {
  const payload = { jti: randomBytes(12).toString('base64url'), htm: 'POST', htu: ctx.fx.issuer + path, iat: Math.floor(ctx.fx.clock.now() / 1000), ...extra };
  const header = { alg: 'ES256', typ: 'dpop+jwt', jwk: ctx.key.publicJwk };
  return mutatedJws(m.kind === 'dpop' ? m.jws : { where: 'none' }, header, payload, ctx.dpopPrivate).token;
}

async function attestationPop(ctx: HttpFuzzContext): Promise<string> {
  return new SignJWT({})
    .setProtectedHeader({ alg: 'ES256', typ: CLIENT_ATTESTATION_POP_TYP })
    .setIssuer(ctx.fx.agent.agent.id).setAudience(ctx.fx.issuer).setIssuedAt(Math.floor(ctx.fx.clock.now() / 1000)).setJti(randomBytes(12).toString('base64url'))
    .sign(ctx.key.pair.privateKey);
}

const FORM = 'application/x-www-form-urlencoded';
const JSON_TYPE = 'application/json';

/** A valid request of the template, built fresh (new jti, new nonce). */
export async function build(ctx: HttpFuzzContext, template: Template, m: Mutation): Promise<WireRequest> {
  const { fx } = ctx;
  const post = (path: string, form: Record<string, string>, headers: Record<string, string> = {}): WireRequest => ({ family: 'oauth', method: 'POST', path, headers: { 'content-type': FORM, ...headers }, form });
  const admin = (method: string, path: string, json?: unknown): WireRequest => ({ family: 'admin', method, path, headers: { authorization: `Bearer ${fx.secrets.admin}`, ...(json === undefined ? {} : { 'content-type': JSON_TYPE }) }, ...(json === undefined ? {} : { json }) });
  switch (template) {
    case 'token-exchange':
      return post('/token', {
        ...(await clientAuthFields(ctx, m)), grant_type: GRANT_TYPE.tokenExchange, subject_token: ctx.grant, subject_token_type: TOKEN_TYPE.refreshToken,
        actor_token: await freshAttestation(ctx), actor_token_type: TOKEN_TYPE.jwt, resource: API,
      }, { dpop: dpopProof(ctx, '/token', m) });
    case 'client-credentials':
      return post('/token', { ...(await clientAuthFields(ctx, m)), grant_type: GRANT_TYPE.clientCredentials, resource: AUTO_API }, {
        dpop: dpopProof(ctx, '/token', m), 'oauth-client-attestation': await freshAttestation(ctx), 'oauth-client-attestation-pop': await attestationPop(ctx),
      });
    case 'bc-authorize':
      return post('/bc-authorize', {
        ...(await clientAuthFields(ctx, m)), login_hint: fx.alice.id, binding_message: 'Read the items', attestation: await freshAttestation(ctx),
        authorization_details: JSON.stringify([{ type: 'agent-task', purpose: 'Read the items', locations: [API], actions: ['read'], constraints: { notAfter: Math.floor(fx.clock.now() / 1000) + 3600 } }]),
      }, { dpop: dpopProof(ctx, '/bc-authorize', m) });
    case 'attest': {
      const challenge = await fetch(`${fx.issuer}/challenge`, { method: 'POST', headers: { 'content-type': FORM }, body: '' });
      const { nonce } = (await challenge.json()) as { nonce: string };
      const audience = await evidenceAudience(nonce, ctx.key.jkt);
      const auth = await clientAuthFields(ctx, m);
      return { family: 'oauth', method: 'POST', path: '/attest', headers: { 'content-type': JSON_TYPE, dpop: dpopProof(ctx, '/attest', m) }, json: { ...auth, nonce, evidence: await fx.evidence({ audience } as never) } };
    }
    case 'introspect':
      return post('/introspect', { token: ctx.accessToken, client_id: API, client_secret: SECRETS[API]! });
    case 'revoke':
      return post('/revoke', { token: `${ctx.accessToken.slice(0, -4)}AAAA`, token_type_hint: 'access_token', ...(await clientAuthFields(ctx, m)) });
    case 'challenge':
      return post('/challenge', {});
    case 'admin-agent':
      return admin('POST', '/admin/v1/agents', { name: `fuzz-${randomBytes(4).toString('hex')}`, owners: [fx.alice.id], policy: 'default', jwk: ctx.key.publicJwk });
    case 'admin-human':
      return admin('POST', '/admin/v1/humans', { name: `fuzz-${randomBytes(4).toString('hex')}` });
    case 'admin-list':
      return admin('GET', `/admin/v1/audit/events?limit=5`);
  }
}

/** The request after the mutation (client-assertion and DPoP mutations were applied while building). */
export function applyMutation(request: WireRequest, m: Mutation): { request: WireRequest; body: string | undefined } {
  const r: WireRequest = { ...request, headers: { ...request.headers }, ...(request.form ? { form: { ...request.form } } : {}) };
  let repeat: string | undefined;
  if (m.kind === 'form-field' && r.form) {
    const names = Object.keys(r.form);
    const name = names[m.pick % Math.max(1, names.length)];
    if (name !== undefined) {
      if (m.edit === 'delete') delete r.form[name];
      else if (m.edit === 'repeat') repeat = `&${encodeURIComponent(name)}=${encodeURIComponent(r.form[name]!)}`;
      else r.form[name] = mutateString(m.edits, r.form[name]!);
    }
  }
  if (m.kind === 'form-add' && r.form) r.form = { ...r.form, [m.name]: m.value };
  if (m.kind === 'json-fields' && r.json !== undefined) r.json = mutateFields(m.fields, r.json);
  if (m.kind === 'header') {
    const value = r.headers[m.name] ?? 'x';
    if (m.edit === 'drop') delete r.headers[m.name];
    else if (m.edit === 'mutate') r.headers[m.name] = mutateString(m.edits, value);
    else r.headers[m.name] = `${value}, ${value}`;
  }
  if (m.kind === 'content-type') r.headers['content-type'] = m.value;
  if (m.kind === 'big-header') r.headers['x-padding'] = 'p'.repeat(m.bytes);
  let body = r.form ? new URLSearchParams(r.form).toString() + (repeat ?? '') : r.json !== undefined ? JSON.stringify(r.json) : undefined;
  if (m.kind === 'body-text') body = mutateString(m.edits, body ?? '');
  if (m.kind === 'oversize') body = (body ?? '') + (r.form ? `&pad=${'a'.repeat(m.bytes)}` : ' '.repeat(m.bytes));
  if (body !== undefined && r.method === 'GET') body = undefined;
  return { request: r, body };
}


async function sendRandom(ctx: HttpFuzzContext, r: HttpInput & { kind: 'random' }): Promise<void> {
  const { route, contentType, body, query, auth } = r.request;
  const path = route.path.replace(/:id/g, 'usr_AAAAAAAAAAAAAAAAAAAAAA') + (query ? `?${encodeURIComponent(query)}` : '');
  const headers: Record<string, string> = contentType ? { 'content-type': contentType } : {};
  if (auth && route.family === 'admin') headers.authorization = `Bearer ${ctx.fx.secrets.admin}`;
  const family = route.family === 'admin' ? 'admin' : route.family === 'oauth' ? 'oauth' : 'other';
  await viaFetch(ctx.fx.issuer, { family, method: route.method, path, headers }, route.method === 'GET' ? undefined : body);
}

/** One input: build, mutate, send (fetch, or raw bytes when asked or when fetch could not carry it). */
export async function sendInput(ctx: HttpFuzzContext, input: HttpInput): Promise<void> {
  if (input.kind === 'random') return sendRandom(ctx, input);
  const m = input.mutation;
  const { request, body } = applyMutation(await build(ctx, input.template, m), m);
  const raw = m.kind === 'raw' || m.kind === 'raw-framing' || request.headers.host !== undefined || Object.values(request.headers).some((v) => !FETCHABLE_HEADER_VALUE.test(v) || v !== v.trim());
  if (!raw) return viaFetch(ctx.fx.issuer, request, body);
  let bytes = rawText(ctx.fx.issuer, request, body, m.kind === 'raw-framing' ? m.framing : undefined);
  if (m.kind === 'raw') bytes = mutateBytes(m.bytes, bytes);
  return viaSocket(ctx.fx.issuer, familyOfRaw(bytes, request.family), bytes);
}

/** The fuzz run: `numRuns` inputs; afterwards the server still answers and still mints. */
export async function fuzzHttp(ctx: HttpFuzzContext, options: FuzzRun): Promise<FuzzTally> {
  const byTemplate: Record<string, { accepted: number; rejected: number }> = {};
  const send = async (input: HttpInput) => {
    const entry = (byTemplate[input.kind === 'random' ? 'random' : input.template] ??= { accepted: 0, rejected: 0 });
    try {
      await sendInput(ctx, input);
      entry.accepted += 1;
    } catch (error) {
      if (error instanceof HttpRejection) entry.rejected += 1;
      throw error;
    }
  };
  const parserBefore = PARSER_REJECTIONS.count;
  const tally = await fuzz('http socket (mutated valid requests + random)', httpInput, send, (error) => error instanceof HttpRejection, options);
  console.log(`fuzz http socket by request: ${JSON.stringify(byTemplate)}; answered by the HTTP parser before any route: ${PARSER_REJECTIONS.count - parserBefore}`);
  await assertStillServing(ctx);
  return tally;
}

/** Discovery answers, and an unmutated token exchange still mints a token. */
export async function assertStillServing(ctx: HttpFuzzContext): Promise<void> {
  const metadata = await fetch(`${ctx.fx.issuer}/.well-known/oauth-authorization-server`);
  assert.equal(metadata.status, 200);
  await metadata.arrayBuffer();
  const { request, body } = applyMutation(await build(ctx, 'token-exchange', { kind: 'none' }), { kind: 'none' });
  const response = await fetch(ctx.fx.issuer + request.path, { method: 'POST', headers: request.headers, body: body! });
  const minted = (await response.json()) as Record<string, unknown>;
  assert.equal(response.status, 200, JSON.stringify(minted));
  assert.equal(typeof minted.access_token, 'string');
}

