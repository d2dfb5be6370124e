import { CLIENT_ASSERTION_TYPE, HTTP_HEADER } from '../protocol/index.ts';
import type { JWK } from 'jose';
import { epochSeconds, type Clock } from './clock.ts';
import { importSigningKey, prepareDpopKey, type DpopKey, type SigningKey } from './keys.ts';
import { fetchBrokerEndpoints, type BrokerEndpoints } from './metadata.ts';
import type { AgentClientOptions } from './options.ts';
import { createClientAssertion, createClientAttestationPop } from './proofs.ts';
import { createTransport, type Transport } from './transport.ts';

/** What every agent operation needs; built once by `createAgentClient`. */
export interface AgentContext {
  issuer: string;
  clientId: string;
  clientKey: SigningKey;
  dpop: DpopKey;
  clock: Clock;
  transport: Transport;
  endpoints(): Promise<BrokerEndpoints>;
}

/** RFC 7523 §2.2 client authentication form fields, with a fresh assertion each call. */
export async function clientAuthentication(ctx: AgentContext): Promise<Record<string, string>> {
  return {
    client_id: ctx.clientId,
    client_assertion_type: CLIENT_ASSERTION_TYPE,
    client_assertion: await createClientAssertion(ctx.clientKey, ctx.clientId, ctx.issuer, epochSeconds(ctx.clock)),
  };
}

/** The attestation result and its proof of possession as request headers (PROTOCOL §4, §5). */
export async function attestationHeaders(ctx: AgentContext, attestation: string): Promise<Record<string, string>> {
  return {
    [HTTP_HEADER.clientAttestation]: attestation,
    [HTTP_HEADER.clientAttestationPop]: await createClientAttestationPop(ctx.dpop, ctx.clientId, ctx.issuer, epochSeconds(ctx.clock)),
  };
}

/**
 * The context, built on first use so that `createAgentClient` stays synchronous (key import is
 * async in WebCrypto), and the broker metadata, fetched once (again after a failure).
 */
export function createLazyContext(options: AgentClientOptions, clock: Clock, fetchImpl: typeof fetch) {
  let ready: Promise<AgentContext> | undefined;
  let endpoints: Promise<BrokerEndpoints> | undefined;
  const discover = () => {
    endpoints ??= fetchBrokerEndpoints(options.issuer, fetchImpl);
    endpoints.catch(() => (endpoints = undefined));
    return endpoints;
  };
  const build = async (): Promise<AgentContext> => {
    const [clientKey, dpop] = await Promise.all([importSigningKey(options.clientKey as CryptoKey | JWK, 'clientKey'), prepareDpopKey(options.dpopKey)]);
    const transport = createTransport({ fetch: fetchImpl, clock, dpop });
    return { issuer: options.issuer, clientId: options.clientId, clientKey, dpop, clock, transport, endpoints: discover };
  };
  return { context: () => (ready ??= build()), discover };
}
