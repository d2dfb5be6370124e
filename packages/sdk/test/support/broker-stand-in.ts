// A node:http stand-in for the broker's agent-facing wire (PROTOCOL §2–§5), for SDK tests only.
import { decodeJwt, SignJWT, type JWK } from 'jose';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { listen, readBody } from './http.ts';
import { makeKey, type TestKey } from './keys.ts';
import { checkAttestation, checkAttestationPop, checkClientAssertion, checkDpop, expectedEvidenceAudience, WireError, type CheckState } from './stand-in-checks.ts';

export type PollStep = 'pending' | 'slow_down' | 'denied' | 'expired' | 'stale' | 'approve';

export interface StandInOptions {
  now: () => number;
  /** Require a DPoP nonce at the AS (400 use_dpop_nonce first). */
  requireNonce?: boolean;
  attestationTtl?: number;
  tokenTtl?: number;
  interval?: number;
  audience: string;
  /** Verifies the `oidc-token` evidence the test's evidence provider made. */
  oidcKey: TestKey;
}

export interface Call {
  path: string;
  form: Record<string, string>;
  json?: Record<string, unknown>;
  headers: IncomingMessage['headers'];
}

export async function startBrokerStandIn(options: StandInOptions) {
  const signing = await makeKey('ES256', 'b1');
  const calls: Call[] = [];
  const poll: PollStep[] = [];
  const grants = new Map<string, { revoked: boolean }>();
  const challenges = new Set<string>();
  const attestations: string[] = [];
  const dpopNonce = 'nonce-' + randomUUID();
  let mandateError: string | undefined;
  const seconds = () => Math.floor(options.now() / 1000);
  let issuer = '';
  const state: CheckState = { issuer: '', now: options.now, agents: new Map<string, JWK>(), seenJti: new Set() };

  const signAttestation = async (clientId: string, jkt: string) => {
    const iat = seconds();
    const jwt = await new SignJWT({ cnf: { jkt }, verdict: 'affirming' })
      .setProtectedHeader({ alg: 'ES256', typ: 'attestation-result+jwt', kid: 'b1' })
      .setIssuer(issuer).setSubject(clientId).setIssuedAt(iat).setExpirationTime(iat + (options.attestationTtl ?? 300)).setJti(randomUUID())
      .sign(signing.privateKey);
    attestations.push(jwt);
    return jwt;
  };

  const issueToken = async (clientId: string, jkt: string, subject: string | null) => {
    const iat = seconds();
    const exp = iat + (options.tokenTtl ?? 300);
    const detail = { type: 'agent-task', purpose: 'triage', locations: [options.audience], actions: ['issues:read'], constraints: { notAfter: iat + 86400 } };
    const delegated = subject !== null;
    const claims = delegated
      ? { sub: subject, act: { sub: clientId, sub_profile: 'ai_agent' }, authorization_details: [{ ...detail, delegation: { id: 'mdt_1', approved_by: subject, approved_at: iat, method: 'passkey', task_s256: 'x' } }] }
      : { sub: clientId, sub_profile: 'ai_agent', authorization_details: [detail] };
    const accessToken = await new SignJWT({ ...claims, client_id: clientId, cnf: { jkt } })
      .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: 'b1' })
      .setIssuer(issuer).setAudience(options.audience).setIssuedAt(iat).setNotBefore(iat).setExpirationTime(exp).setJti(randomUUID())
      .sign(signing.privateKey);
    return { access_token: accessToken, token_type: 'DPoP', expires_in: exp - iat, authorization_details: claims.authorization_details };
  };

  const authenticate = async (call: Call, path: string) => {
    const params = call.json ?? call.form;
    const clientId = await checkClientAssertion(state, params);
    const dpop = await checkDpop(state, call.headers.dpop as string | undefined, issuer + path, options.requireNonce ? dpopNonce : undefined);
    return { clientId, ...dpop };
  };

  const attest = async (call: Call) => {
    const { clientId, jkt } = await authenticate(call, '/attest');
    const nonce = String(call.json!.nonce);
    if (!challenges.delete(nonce)) throw new WireError(400, 'invalid_request', 'unknown or used challenge');
    const evidence = call.json!.evidence as Array<{ attestor: string; evidence: string }>;
    const oidc = evidence.find((e) => e.attestor === 'oidc-token');
    if (!oidc || decodeJwt(oidc.evidence).aud !== expectedEvidenceAudience(nonce, jkt)) throw new WireError(400, 'invalid_request', 'evidence not bound to the challenge');
    return { attestation: await signAttestation(clientId, jkt), expires_in: options.attestationTtl ?? 300, verdict: 'affirming', attestors: { 'oidc-token': { status: 'affirming' } } };
  };

  const bcAuthorize = async (call: Call) => {
    const { clientId, jkt } = await authenticate(call, '/bc-authorize');
    await checkAttestation(state, signing.publicKey, call.form.attestation, clientId, jkt);
    const [detail] = JSON.parse(call.form.authorization_details!) as Array<Record<string, unknown>>;
    if (detail!.type !== 'agent-task' || typeof (detail!.constraints as { notAfter?: unknown }).notAfter !== 'number') throw new WireError(400, 'invalid_authorization_details', 'bad task');
    return { auth_req_id: 'req_' + randomUUID(), expires_in: 300, interval: options.interval ?? 5 };
  };

  const freshHeaderAttestation = async (call: Call, clientId: string, jkt: string, jwk: JWK) => {
    await checkAttestation(state, signing.publicKey, call.headers['oauth-client-attestation'], clientId, jkt);
    await checkAttestationPop(state, call.headers['oauth-client-attestation-pop'] as string | undefined, jwk, clientId);
  };

  const token = async (call: Call) => {
    const { clientId, jkt, jwk } = await authenticate(call, '/token');
    const { form } = call;
    if (form.grant_type === 'urn:openid:params:grant-type:ciba') {
      const step = poll.shift() ?? 'pending';
      if (call.headers['oauth-client-attestation']) await freshHeaderAttestation(call, clientId, jkt, jwk);
      if (step === 'pending') throw new WireError(400, 'authorization_pending', 'pending');
      if (step === 'slow_down') throw new WireError(400, 'slow_down', 'slow down');
      if (step === 'denied') throw new WireError(400, 'access_denied', 'denied');
      if (step === 'expired') throw new WireError(400, 'expired_token', 'expired');
      if (step === 'stale' && !call.headers['oauth-client-attestation']) throw new WireError(400, 'invalid_grant', 'stale', { mandate_error: 'attestation_stale' });
      const grant = 'mgr_' + randomUUID();
      grants.set(grant, { revoked: false });
      return { ...(await issueToken(clientId, jkt, 'usr_alice')), refresh_token: grant };
    }
    if (form.grant_type === 'urn:ietf:params:oauth:grant-type:token-exchange') {
      if (form.subject_token_type !== 'urn:ietf:params:oauth:token-type:refresh_token' || form.actor_token_type !== 'urn:ietf:params:oauth:token-type:jwt') throw new WireError(400, 'invalid_request', 'token types');
      if (!grants.has(form.subject_token!) || form.resource !== options.audience) throw new WireError(400, 'invalid_request', 'bad grant or resource', { mandate_error: 'grant_invalid' });
      if (grants.get(form.subject_token!)!.revoked || mandateError) throw new WireError(400, 'invalid_request', 'inactive', { mandate_error: mandateError ?? 'mandate_revoked' });
      await checkAttestation(state, signing.publicKey, form.actor_token, clientId, jkt);
      return { ...(await issueToken(clientId, jkt, 'usr_alice')), issued_token_type: 'urn:ietf:params:oauth:token-type:access_token' };
    }
    if (form.grant_type === 'client_credentials') {
      await freshHeaderAttestation(call, clientId, jkt, jwk);
      return issueToken(clientId, jkt, null);
    }
    throw new WireError(400, 'unsupported_grant_type', 'grant');
  };

  const routes: Record<string, (call: Call) => Promise<object | null>> = {
    '/challenge': async () => {
      const nonce = randomUUID();
      challenges.add(nonce);
      return { nonce, expires_in: 60 };
    },
    '/attest': attest,
    '/bc-authorize': bcAuthorize,
    '/token': token,
    '/revoke': async (call) => {
      await checkClientAssertion(state, call.form);
      if (grants.has(call.form.token!)) grants.get(call.form.token!)!.revoked = true;
      return null;
    },
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    if (req.method === 'GET' && req.url === '/.well-known/oauth-authorization-server') return send(res, 200, metadata(issuer));
    if (req.method === 'GET' && req.url === '/jwks') return send(res, 200, { keys: [signing.publicJwk] });
    const body = await readBody(req);
    const isJson = req.headers['content-type'] === 'application/json';
    const call: Call = { path: req.url!, headers: req.headers, form: isJson ? {} : Object.fromEntries(new URLSearchParams(body)), ...(isJson ? { json: JSON.parse(body) } : {}) };
    calls.push(call);
    const route = routes[req.url!];
    if (!route) return send(res, 404, { error: 'not_found' });
    try {
      const result = await route(call);
      send(res, 200, result, options.requireNonce && req.url === '/token' ? { 'DPoP-Nonce': dpopNonce } : {});
    } catch (error) {
      if (!(error instanceof WireError)) return send(res, 500, { error: 'server_error', error_description: String(error) });
      const { 'DPoP-Nonce': nonce, ...members } = error.extra;
      send(res, error.status, { error: error.error, error_description: error.message, ...members }, nonce ? { 'DPoP-Nonce': nonce } : {});
    }
  };

  const server = await listen((req, res) => void handle(req, res));
  issuer = server.url;
  state.issuer = issuer;
  return {
    issuer,
    jwksUrl: `${issuer}/jwks`,
    calls,
    poll,
    attestations,
    registerAgent: (clientId: string, jwk: JWK) => state.agents.set(clientId, jwk),
    setMandateError: (value: string | undefined) => (mandateError = value),
    revokedGrants: () => [...grants].filter(([, g]) => g.revoked).map(([id]) => id),
    close: server.close,
  };
}

function metadata(issuer: string) {
  return {
    issuer,
    token_endpoint: `${issuer}/token`,
    jwks_uri: `${issuer}/jwks`,
    backchannel_authentication_endpoint: `${issuer}/bc-authorize`,
    revocation_endpoint: `${issuer}/revoke`,
    introspection_endpoint: `${issuer}/introspect`,
    challenge_endpoint: `${issuer}/challenge`,
    attestation_endpoint: `${issuer}/attest`,
  };
}

function send(res: ServerResponse, status: number, body: object | null, headers: Record<string, string> = {}) {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers });
  res.end(body === null ? '' : JSON.stringify(body));
}
