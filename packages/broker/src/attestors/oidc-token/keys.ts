import { readFileSync } from 'node:fs';
import { createLocalJWKSet, createRemoteJWKSet, type CryptoKey, type JSONWebKeySet, type JWSHeaderParameters } from 'jose';
import type { OidcIssuerConfig } from './index.ts';

/** Finds the issuer's verification key for a token header (kid, alg). */
export type KeyResolver = (header: JWSHeaderParameters) => Promise<CryptoKey>;

/** The issuer's keys could not be fetched: a fault of the issuer or the network, not of the evidence. */
export class IssuerUnavailableError extends Error {
  override readonly name = 'IssuerUnavailableError';
}

const FETCH_TIMEOUT_MS = 5000;
const DISCOVERY_RETRY_MS = 30_000;
// jose keeps the set for cacheMaxAge and refetches on an unknown kid at most once per cooldown.
const REMOTE_OPTIONS = { timeoutDuration: FETCH_TIMEOUT_MS, cacheMaxAge: 600_000, cooldownDuration: 30_000 };

/** One resolver per issuer, built once at start-up: keys are cached, never fetched per token. */
export function createKeyResolver(issuer: OidcIssuerConfig): KeyResolver {
  if (issuer.jwksFile !== undefined) return createLocalJWKSet(readJwksFile(issuer.jwksFile));
  if (issuer.jwksUri !== undefined) return createRemoteJWKSet(new URL(issuer.jwksUri), REMOTE_OPTIONS);
  return discoveredKeys(issuer.issuer);
}

function readJwksFile(path: string): JSONWebKeySet {
  const jwks = JSON.parse(readFileSync(path, 'utf8')) as JSONWebKeySet;
  if (!Array.isArray(jwks?.keys)) throw new Error(`${path} is not a JWKS (no "keys" array)`);
  return jwks;
}

/**
 * OpenID Connect Discovery 1.0 §4: the metadata names `jwks_uri`. It is fetched once; a failed
 * fetch is retried at most every 30 s so a down issuer is not hammered by every `/attest`.
 */
function discoveredKeys(issuer: string): KeyResolver {
  let remote: Promise<KeyResolver> | null = null;
  let failedAt = -Infinity;
  return async (header) => {
    if (remote === null && performance.now() - failedAt < DISCOVERY_RETRY_MS) throw new IssuerUnavailableError(`discovery for ${issuer} failed recently`);
    remote ??= discover(issuer).catch((error: unknown) => {
      remote = null;
      failedAt = performance.now();
      throw error;
    });
    return (await remote)(header);
  };
}

async function discover(issuer: string): Promise<KeyResolver> {
  const url = `${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`;
  const metadata = await fetchJson(url);
  // OpenID Connect Discovery 1.0 §4.3: the metadata must name exactly the issuer it was fetched for.
  if (metadata.issuer !== issuer) throw new IssuerUnavailableError(`discovery document at ${url} names another issuer`);
  const jwksUri = metadata.jwks_uri;
  if (typeof jwksUri !== 'string' || !isFetchable(jwksUri)) throw new IssuerUnavailableError(`discovery document at ${url} has no usable jwks_uri`);
  return createRemoteJWKSet(new URL(jwksUri), REMOTE_OPTIONS);
}

async function fetchJson(url: string): Promise<Record<string, unknown>> {
  try {
    const response = await fetch(url, { redirect: 'manual', signal: AbortSignal.timeout(FETCH_TIMEOUT_MS), headers: { accept: 'application/json' } });
    if (response.status !== 200) throw new IssuerUnavailableError(`${url} answered ${response.status}`);
    const body: unknown = await response.json();
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new IssuerUnavailableError(`${url} is not a JSON object`);
    return body as Record<string, unknown>;
  } catch (error) {
    if (error instanceof IssuerUnavailableError) throw error;
    throw new IssuerUnavailableError(`${url} could not be fetched: ${error instanceof Error ? error.message : String(error)}`);
  }
}

function isFetchable(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === 'https:' || (url.protocol === 'http:' && ['127.0.0.1', '[::1]', 'localhost'].includes(url.hostname));
  } catch {
    return false;
  }
}
