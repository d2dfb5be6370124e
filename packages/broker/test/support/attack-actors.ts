import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT } from 'jose';
import type { AgentClient } from '@mandate/sdk';
import { registerSsfStream } from '@mandate/sdk/ssf-receiver';
import { CLIENT_ATTESTATION_POP_TYP, GRANT_TYPE, TOKEN_TYPE } from '@mandate/sdk/protocol';
import { API, clientAuth, generateDpopKey, SECRETS, type DpopKeyPair, type LoopAgent, type LoopFixture, type WireResponse } from './loop-fixture.ts';

/**
 * Agents for the attack catalogue (test/attack-catalogue*.test.ts): a registered agent with its
 * own DPoP key and SDK client, an active mandate made through the real loop (ask → approve →
 * collect), and raw requests in which exactly one part is replaced by the attacker's choice.
 */
export interface Actor {
  agent: LoopAgent;
  id: string;
  key: DpopKeyPair;
  sdk: AgentClient;
}

export interface ActiveMandate {
  mandateId: string;
  grant: string;
  token: string;
}

export async function newActor(fx: LoopFixture): Promise<Actor> {
  const agent = await fx.addAgent();
  const key = await generateDpopKey();
  return { agent, id: agent.agent.id, key, sdk: agent.client({ dpopKey: key.pair }) };
}

export const sha256 = (text: string) => createHash('sha256').update(text).digest('base64url');

/** A mandate for `actions` at API, approved by alice, collected by the SDK client. */
export async function activeMandate(fx: LoopFixture, a: Actor, options: { actions?: string[]; maxUses?: number } = {}): Promise<ActiveMandate> {
  const notAfter = new Date(fx.clock.now() + 3_600_000);
  const { authReqId } = await a.sdk.ask({
    loginHint: fx.alice.id, bindingMessage: 'Read the items',
    task: { purpose: 'Read the items', audience: API, actions: options.actions ?? ['read'], notAfter, ...(options.maxUses ? { maxUses: options.maxUses } : {}) },
  });
  const mandateId = await fx.pendingMandateOf(a.id);
  const approved = await fx.adminApi('POST', `/admin/v1/mandates/${mandateId}/approve`, fx.secrets.alice);
  assert.equal(approved.status, 200, JSON.stringify(approved.body));
  const { accessToken, grant } = await a.sdk.waitForApproval(authReqId, { interval: 0.05, timeoutMs: 10_000 });
  return { mandateId, grant, token: accessToken };
}

/** The parts of a token-exchange request; a test replaces one. */
export interface ExchangeParts {
  form: Record<string, string | string[] | undefined>;
  headers: Record<string, string>;
}

export async function exchangeParts(fx: LoopFixture, a: Actor, grant: string): Promise<ExchangeParts> {
  return {
    form: {
      ...(await clientAuth(a.agent)), grant_type: GRANT_TYPE.tokenExchange, subject_token: grant, subject_token_type: TOKEN_TYPE.refreshToken,
      actor_token: (await a.sdk.attest()).attestation, actor_token_type: TOKEN_TYPE.jwt, resource: API,
    },
    headers: { dpop: await fx.proof(a.key, '/token') },
  };
}

export const postParts = (fx: LoopFixture, parts: ExchangeParts): Promise<WireResponse> => fx.post('/token', parts.form, parts.headers);

/** draft-ietf-oauth-attestation-based-client-auth: the PoP beside an attestation result. */
export async function attestationPop(fx: LoopFixture, a: Actor): Promise<string> {
  return new SignJWT({})
    .setProtectedHeader({ alg: 'ES256', typ: CLIENT_ATTESTATION_POP_TYP })
    .setIssuer(a.id).setAudience(fx.issuer).setIssuedAt(Math.floor(fx.clock.now() / 1000)).setJti(randomBytes(12).toString('base64url'))
    .sign(a.key.pair.privateKey);
}

/** A call to a resource server with `token` as the access token and a proof by `key` (ath of `token`). */
export async function callResource(fx: LoopFixture, url: string, key: DpopKeyPair, token: string, claims: Record<string, unknown> = {}, method = 'GET'): Promise<{ status: number; challenge: string }> {
  const response = await fetch(url, { method, headers: { authorization: `DPoP ${token}`, dpop: await fx.proof(key, url, { ath: sha256(token), ...claims }, method) } });
  await response.arrayBuffer();
  return { status: response.status, challenge: response.headers.get('www-authenticate') ?? '' };
}

/** `error` and `error_description` of a `WWW-Authenticate: DPoP …` challenge. */
export function challengeOf(header: string): { error: string | undefined; description: string | undefined } {
  return { error: /error="([^"]*)"/.exec(header)?.[1], description: /error_description="([^"]*)"/.exec(header)?.[1] };
}

/** An SSF push endpoint on loopback that keeps every SET the broker pushes (RFC 8935), registered for API. */
export interface SetCatcher {
  sets: string[];
  close(): Promise<void>;
}

export async function catchSets(fx: LoopFixture): Promise<SetCatcher> {
  const sets: string[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      sets.push(Buffer.concat(chunks).toString('utf8'));
      res.writeHead(202).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const endpointUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/ssf/events`;
  await registerSsfStream({ issuer: fx.issuer, clientId: API, clientSecret: SECRETS[API]!, endpointUrl });
  return {
    sets,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

/** Waits until `check` holds, polling every 10 ms, for at most `ms`. */
export async function eventually(check: () => boolean, ms = 5_000): Promise<void> {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
