import { GRANT_PREFIX, type AgentTask } from '../protocol/index.ts';
import { ConfigurationError, NoGrantError } from '../errors.ts';
import { attest, requestChallenge, type AttestationResult, type Challenge, type EvidenceItem, type EvidenceProvider } from './attest.ts';
import { backchannelAuthorize, type ApprovedMandate, type AskOptions, type BackchannelRequest } from './ciba.ts';
import { systemClock, type Clock } from './clock.ts';
import { createLazyContext } from './context.ts';
import { dpopFetch, type DpopFetchInit } from './dpop-fetch.ts';
import type { BrokerEndpoints } from './metadata.ts';
import { clientCredentials, exchangeGrant, revokeToken } from './mint.ts';
import { narrowedTask, redeemSubGrant, requestSubGrant, type DelegateOptions, type SubGrant } from './sub-grant.ts';
import { createTokenCache } from './token-cache.ts';
import type { TokenSet } from './tokens.ts';
import { waitForApproval, type WaitOptions } from './wait.ts';
import { checkAgentOptions, type AgentClientOptions } from './options.ts';

/**
 * An agent's connection to a Mandate broker. See `createAgentClient`.
 *
 * @example
 * ```ts
 * const agent: AgentClient = createAgentClient({ issuer, clientId, clientKey });
 * const response = await agent.fetch('https://api.example.com/issues');
 * ```
 */
export interface AgentClient {
  readonly clientId: string;
  /** RFC 7638 thumbprint of the DPoP public key every token is bound to. */
  jkt(): Promise<string>;
  /** The broker's endpoints (RFC 8414 metadata), fetched once. */
  discover(): Promise<BrokerEndpoints>;
  /** `POST /challenge`: a single-use nonce for `/attest`. */
  challenge(): Promise<Challenge>;
  /** A fresh attestation result; evidence defaults to the `evidence` option. */
  attest(evidence?: EvidenceProvider | EvidenceItem[]): Promise<AttestationResult>;
  /** Asks a human to approve a task (OpenID CIBA); attests first unless `attestation` is given. */
  ask(options: AskOptions & { attestation?: AttestationResult }): Promise<BackchannelRequest>;
  /** Polls until the human decides; on approval keeps the grant and the first token. */
  waitForApproval(authReqId: string, options?: WaitOptions): Promise<ApprovedMandate>;
  /** A new access token for `resource`, from the mandate grant and a fresh attestation. */
  mint(options: { resource: string; authorizationDetails?: AgentTask[]; grant?: string }): Promise<TokenSet>;
  /** An autonomous agent's token (`client_credentials` with a fresh attestation). */
  mintAutonomous(options: { resource: string }): Promise<TokenSet>;
  /** A valid token for `resource` from the cache, renewed (re-attesting) shortly before expiry. */
  getToken(resource: string): Promise<TokenSet>;
  /** Revokes `token`; without it, every cached access token and every mandate grant held. */
  revoke(token?: string): Promise<void>;
  /** `fetch` with `Authorization: DPoP` and a proof; retries once on a DPoP nonce challenge. */
  fetch(input: string | URL | Request, init?: DpopFetchInit): Promise<Response>;
  /** The mandate grants held, by resource, to store and pass back as the `grants` option. */
  grants(): Record<string, string>;
  /**
   * Parent side of a sub-agent hop: exchanges this agent's current token for a one-time sub-grant
   * only `child` can redeem, equal to or narrower than the token (PROTOCOL §10).
   */
  delegate(options: DelegateOptions): Promise<SubGrant>;
  /**
   * Child side: redeems a sub-grant with a fresh attestation; keeps the grant of the new mandate,
   * so `getToken` and `fetch` renew it like any mandate (with fresh evidence each time).
   */
  redeem(subGrant: Pick<SubGrant, 'subGrant' | 'resource'>): Promise<ApprovedMandate>;
}

/**
 * Creates the client an agent uses to attest, ask for a mandate, wait for the human's approval,
 * keep DPoP-bound tokens fresh and call resource servers.
 *
 * @example
 * ```ts
 * const agent = createAgentClient({
 *   issuer: 'http://localhost:7420',
 *   clientId: 'agt_2c5d…',
 *   clientKey: privateJwk,
 *   evidence: async ({ audience }) => [
 *     { attestor: 'oidc-token', evidence: await core.getIDToken(audience) },
 *     { attestor: 'code-digest', evidence: { digest: 'sha256:…' } },
 *   ],
 * });
 * const { authReqId } = await agent.ask({
 *   loginHint: 'usr_alice',
 *   bindingMessage: 'Triage issues',
 *   task: { purpose: 'Triage issues', audience: 'https://api.example.com', actions: ['read'], notAfter: new Date(Date.now() + 3600_000) },
 * });
 * await agent.waitForApproval(authReqId);
 * const response = await agent.fetch('https://api.example.com/issues');
 * ```
 */
export function createAgentClient(options: AgentClientOptions): AgentClient {
  checkAgentOptions(options);
  const clock: Clock = options.clock ?? systemClock;
  const fetchImpl = options.fetch ?? globalThis.fetch.bind(globalThis);
  const marginMs = (options.renewBeforeSeconds ?? 30) * 1000;
  const grants = new Map(Object.entries(options.grants ?? {}));
  const requests = new Map<string, { interval: number; attestation: AttestationResult }>();

  const { context, discover } = createLazyContext(options, clock, fetchImpl);

  const evidenceOf = (given?: EvidenceProvider | EvidenceItem[]) => {
    const evidence = given ?? options.evidence;
    if (!evidence) throw new ConfigurationError('no evidence: pass it to attest() or set the evidence option');
    return evidence;
  };
  const freshAttestation = async (given?: EvidenceProvider | EvidenceItem[]) => attest(await context(), evidenceOf(given));

  const mint = async ({ resource, authorizationDetails, grant }: { resource: string; authorizationDetails?: AgentTask[]; grant?: string }) => {
    const held = grant ?? grants.get(resource);
    if (!held) throw new NoGrantError(`no mandate grant for ${resource}: ask for a mandate first`);
    // Every renewal carries evidence collected for a new challenge: a result is never reused.
    const { attestation } = await freshAttestation();
    const tokens = await exchangeGrant(await context(), { grant: held, attestation, resource, ...(authorizationDetails ? { authorizationDetails } : {}) });
    if (!authorizationDetails) cache.put(tokens);
    return tokens;
  };

  const mintAutonomous = async ({ resource }: { resource: string }) => {
    const { attestation } = await freshAttestation();
    const tokens = await clientCredentials(await context(), { attestation, resource });
    cache.put(tokens);
    return tokens;
  };

  const cache = createTokenCache({
    clock,
    renewBeforeMs: marginMs,
    renew: (resource) => (grants.has(resource) || !options.autonomous ? mint({ resource }) : mintAutonomous({ resource })),
  });

  /** The one audience held, when the caller names none. */
  const onlyResource = (audience: string | undefined) => {
    const held = new Set([...grants.keys(), ...cache.all().map((t) => t.resource)]);
    if (audience !== undefined) return audience;
    if (held.size !== 1) throw new ConfigurationError('audience is required: this agent holds tokens for none or several audiences');
    return [...held][0]!;
  };

  const delegate = async (options: DelegateOptions) => {
    if (typeof options?.child !== 'string' || options.child === '') throw new ConfigurationError('child is required');
    const resource = onlyResource(options.audience);
    const parent = await cache.get(resource);
    const narrowed = parent.authorizationDetails[0] ? narrowedTask(parent.authorizationDetails[0], options) : undefined;
    return requestSubGrant(await context(), { accessToken: parent.accessToken, resource, child: options.child, ...(narrowed ? { authorizationDetails: [narrowed] } : {}) });
  };

  const redeem = async ({ subGrant, resource }: Pick<SubGrant, 'subGrant' | 'resource'>) => {
    const { attestation } = await freshAttestation();
    const approved = await redeemSubGrant(await context(), { subGrant, resource, attestation });
    grants.set(approved.resource, approved.grant);
    cache.put(approved);
    return approved;
  };

  const revoke = async (token?: string) => {
    const ctx = await context();
    const isGrant = (t: string) => [...grants.values()].includes(t) || t.startsWith(GRANT_PREFIX.mandateGrant) || t.startsWith(GRANT_PREFIX.subGrant);
    if (token !== undefined) return revokeToken(ctx, token, isGrant(token) ? 'refresh_token' : 'access_token');
    for (const set of cache.all()) await revokeToken(ctx, set.accessToken, 'access_token');
    for (const grant of grants.values()) await revokeToken(ctx, grant, 'refresh_token');
    cache.clear();
    grants.clear();
  };

  return {
    clientId: options.clientId,
    jkt: async () => (await context()).dpop.jkt,
    discover,
    challenge: async () => requestChallenge(await context()),
    attest: freshAttestation,
    async ask({ attestation, ...ask }) {
      const result = attestation ?? (await freshAttestation());
      const request = await backchannelAuthorize(await context(), ask, result.attestation);
      requests.set(request.authReqId, { interval: request.interval, attestation: result });
      return request;
    },
    async waitForApproval(authReqId, waitOptions = {}) {
      const known = requests.get(authReqId);
      const approved = await waitForApproval(await context(), authReqId, { ...waitOptions, interval: waitOptions.interval ?? known?.interval ?? 5 }, {
        attestation: known?.attestation,
        reattest: options.evidence ? () => freshAttestation() : undefined,
        marginMs: 5000,
      });
      requests.delete(authReqId);
      grants.set(approved.resource, approved.grant);
      cache.put(approved);
      return approved;
    },
    mint,
    mintAutonomous,
    getToken: (resource) => cache.get(resource),
    revoke,
    fetch: async (input, init) => dpopFetch(await context(), async (r) => (await cache.get(r)).accessToken, () => [...grants.keys(), ...cache.all().map((t) => t.resource)], input, init),
    grants: () => Object.fromEntries(grants),
    delegate,
    redeem,
  };
}
