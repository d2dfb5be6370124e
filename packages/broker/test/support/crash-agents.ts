/**
 * The load of a crash run: real SDK agents minting against the broker until it is killed.
 * Mandate agents ask (CIBA), get approved through the admin API, then mint by token exchange
 * (attested, DPoP-bound) until their small `maxUses` is spent, and ask again. Autonomous agents
 * mint by `client_credentials`. Every access token a client RECEIVED goes to the ledger.
 */
import { decodeJwt, exportJWK, generateKeyPair, type JWK } from 'jose';
import { createAgentClient, OAuthResponseError, type AgentClient } from '@mandate/sdk';

export interface ReceivedToken {
  jti: string;
  /** `authorization_details[0].delegation.id`; null for autonomous tokens. */
  mandateId: string | null;
  kind: 'ciba' | 'exchange' | 'autonomous';
  round: number;
}

export interface LoadContext {
  issuer: string;
  api: string;
  autoApi: string;
  maxUses: number;
  human: string;
  fetch: typeof fetch;
  admin(method: string, path: string, body?: unknown): Promise<{ status: number; body: Record<string, any> }>;
}

/** One agent's state; it survives restarts (grant, pending request), like a real agent's would. */
export interface CrashAgent {
  id: string;
  autonomous: boolean;
  client: AgentClient;
  grant?: string;
  authReqId?: string;
  /** The round the pending request was made in: only one carried over a kill may be found spent. */
  authReqRound?: number;
}

const EVIDENCE = [{ attestor: 'code-digest', evidence: { digest: `sha256:${'cd'.repeat(32)}` } }];

/** Registers an agent through the admin API and builds its SDK client (its own DPoP key). */
export async function registerAgent(ctx: LoadContext, name: string, autonomous: boolean): Promise<CrashAgent> {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  const { kty, crv, x, y } = await exportJWK(publicKey);
  const registered = await ctx.admin('POST', '/admin/v1/agents', { name, owners: [ctx.human], policy: 'default', jwk: { kty, crv, x, y } });
  if (registered.status !== 201) throw new Error(`agent registration: ${registered.status} ${JSON.stringify(registered.body)}`);
  const id = String(registered.body.id);
  const clientKey: JWK = await exportJWK(privateKey);
  const client = createAgentClient({ issuer: ctx.issuer, clientId: id, clientKey, evidence: EVIDENCE, fetch: ctx.fetch, autonomous });
  return { id, autonomous, client };
}

export interface Round {
  index: number;
  /** Set at the kill: workers end at their next failure or step. */
  killed: boolean;
  /** Set to end a round without a kill (the final one). */
  stopped: boolean;
  received: ReceivedToken[];
  /** Errors that were not caused by the kill: each one fails the run. */
  unexpected: string[];
  /** Failures after the kill (cut or refused connections, …). */
  afterKill: number;
  /** 429 answers (the product's default rate limits, docs/limits.md): the agent waits and goes on. */
  rateLimited: number;
}

/** Runs one agent until the round is killed or stopped. */
export async function runAgent(ctx: LoadContext, agent: CrashAgent, round: Round, ledger: ReceivedToken[]): Promise<void> {
  const keep = (accessToken: string, kind: ReceivedToken['kind']) => {
    const claims = decodeJwt(accessToken) as { jti: string; authorization_details?: Array<{ delegation?: { id: string } }> };
    const token = { jti: claims.jti, mandateId: claims.authorization_details?.[0]?.delegation?.id ?? null, kind, round: round.index };
    round.received.push(token);
    ledger.push(token);
  };
  while (!round.killed && !round.stopped) {
    try {
      if (agent.autonomous) keep((await agent.client.mintAutonomous({ resource: ctx.autoApi })).accessToken, 'autonomous');
      else await mandateStep(ctx, agent, round, keep);
    } catch (error) {
      if (round.killed) {
        round.afterKill++;
        return;
      }
      if (rateLimited(error)) {
        round.rateLimited++;
        await new Promise((resolve) => setTimeout(resolve, 1000));
      } else if (!expected(agent, round, error)) round.unexpected.push(`${agent.id}: ${describe(error)}`);
    }
  }
}

async function mandateStep(ctx: LoadContext, agent: CrashAgent, round: Round, keep: (token: string, kind: ReceivedToken['kind']) => void): Promise<void> {
  if (agent.grant) {
    keep((await agent.client.mint({ resource: ctx.api, grant: agent.grant })).accessToken, 'exchange');
    return;
  }
  if (!agent.authReqId) {
    const notAfter = new Date(Date.now() + 3_600_000);
    const task = { purpose: 'Crash test reads', audience: ctx.api, actions: ['read'], notAfter, maxUses: ctx.maxUses };
    agent.authReqId = (await agent.client.ask({ loginHint: ctx.human, bindingMessage: 'Crash test reads', task })).authReqId;
    agent.authReqRound = round.index;
  }
  await approvePending(ctx, agent.id);
  const approved = await agent.client.waitForApproval(agent.authReqId, { interval: 0.05, timeoutMs: 15_000 });
  agent.authReqId = undefined;
  agent.grant = approved.grant;
  keep(approved.accessToken, 'ciba');
}

/**
 * Approves every pending request of the agent: its own, and any whose `/bc-authorize` response a
 * kill cut (the agent never learnt their `auth_req_id`; approved, nobody can redeem them).
 */
async function approvePending(ctx: LoadContext, agentId: string): Promise<void> {
  const pending = await ctx.admin('GET', `/admin/v1/mandates?status=pending&agent=${agentId}`);
  if (pending.status !== 200) throw new Error(`list pending: ${pending.status} ${JSON.stringify(pending.body)}`);
  for (const mandate of pending.body.mandates as Array<{ id: string }>) {
    const approved = await ctx.admin('POST', `/admin/v1/mandates/${mandate.id}/approve`);
    if (approved.status !== 200) throw new Error(`approve ${mandate.id}: ${approved.status} ${JSON.stringify(approved.body)}`);
  }
}

const rateLimited = (error: unknown) => error instanceof OAuthResponseError && error.status === 429;

/** The refusals a healthy run produces: a spent mandate, or a CIBA request already redeemed. */
function expected(agent: CrashAgent, round: Round, error: unknown): boolean {
  if (!(error instanceof OAuthResponseError)) return false;
  if (agent.grant && error.mandateError === 'mandate_exhausted') {
    agent.grant = undefined;
    return true;
  }
  // The redeeming poll committed but the kill cut its response: the request is spent, ask again.
  if (agent.authReqId && agent.authReqRound! < round.index && error.oauthError === 'invalid_grant') {
    agent.authReqId = undefined;
    return true;
  }
  return false;
}

function describe(error: unknown): string {
  if (error instanceof OAuthResponseError) return `${error.status} ${error.oauthError} ${error.mandateError ?? ''} ${error.errorDescription ?? ''}`;
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return `${(error as Error).message}${cause ? ` (${cause.code ?? cause.message})` : ''}`;
}
