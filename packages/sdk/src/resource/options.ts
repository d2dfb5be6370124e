import type { JSONWebKeySet } from 'jose';
import { ConfigurationError } from '../errors.ts';
import type { AccessTokenClaims } from './access-token.ts';
import type { StatusListOptions } from '../status-list.ts';
import type { ReplayCache } from './replay-cache.ts';

/**
 * RFC 7662 introspection, used to learn about revocation before `exp`.
 *
 * @example
 * ```ts
 * createVerifier({ ...options, introspection: { endpoint: 'http://localhost:7420/introspect', clientId: 'https://api.example.com', clientSecret, cacheTtlSeconds: 10 } });
 * ```
 */
export interface IntrospectionOptions {
  /** The broker's `introspection_endpoint`. */
  endpoint: string;
  /** This resource server's credential at the broker: its audience URI… */
  clientId: string;
  /** …and its secret (HTTP Basic, RFC 6749 §2.3.1). */
  clientSecret: string;
  /** How long `active: true` is trusted, never past the token's `exp`: the revocation bound. Default 30. */
  cacheTtlSeconds?: number;
}

/**
 * Options of `createVerifier`.
 *
 * @example
 * ```ts
 * const options: VerifierOptions = {
 *   issuer: 'http://localhost:7420',
 *   audience: 'https://api.example.com',
 *   jwks: 'http://localhost:7420/jwks',
 *   publicUrl: 'https://api.example.com',
 *   allowedActors: ['agt_2c5d'],
 * };
 * ```
 */
export interface VerifierOptions {
  /** The broker's issuer identifier, compared with `iss` exactly. */
  issuer: string;
  /** This resource server's audience, compared with `aud` and `authorization_details[0].locations[0]`. */
  audience: string;
  /** The broker's JWKS URL (fetched and cached), or a JWK Set held locally. */
  jwks: string | URL | JSONWebKeySet;
  /** This server's public base URL, e.g. `https://api.example.com`; DPoP `htu` is checked against it plus the request path. */
  publicUrl: string;
  /** Only these agents (`act.sub`) may call; default: any agent. */
  allowedActors?: string[];
  /** Accept autonomous tokens (`sub_profile: ai_agent`, no human). Default false. */
  acceptAutonomous?: boolean;
  /** Accept tasks a human approved with an admin token instead of a passkey. Default true. */
  acceptAdminTokenApprovals?: boolean;
  /** Leeway for `exp`, `nbf` and future proof `iat`. Default 30. */
  clockSkewSeconds?: number;
  /** How old a DPoP proof may be (its `iat`). Default 60. */
  proofMaxAgeSeconds?: number;
  introspection?: IntrospectionOptions;
  /**
   * Check each token's bit in the broker's Token Status List (`status.status_list`); the list is
   * cached for at most its `ttl` / `max-age` (the revocation bound). `true` for the defaults.
   */
  statusList?: boolean | StatusListOptions;
  /** Ids revoked by pushed events, e.g. `createSsfReceiver(...)` from `@mandate/sdk/ssf-receiver`. */
  revocations?: { isRevoked(claims: AccessTokenClaims): boolean };
  /** Require a server-provided nonce in every DPoP proof (RFC 9449 §9). Default false. */
  requireNonce?: boolean;
  /** Key for stateless nonces; share it between instances. Random per verifier when absent. */
  nonceSecret?: string | Uint8Array;
  /** Seconds per nonce slot; the current and the previous slot are accepted. Default 60. */
  nonceSlotSeconds?: number;
  /** Where proof `jti` values are remembered; an in-memory bounded cache by default. */
  replayCache?: ReplayCache;
  /** Used for the remote JWKS and introspection. */
  fetch?: typeof fetch;
  /** Epoch milliseconds; defaults to `Date.now`. */
  now?: () => number;
}

const isUrl = (value: unknown) => (typeof value === 'string' || value instanceof URL) && URL.canParse(String(value));
const nonNegative = (value: unknown) => value === undefined || (typeof value === 'number' && value >= 0);

/** Checks every option with a message that names it. */
export function checkVerifierOptions(options: VerifierOptions): void {
  const fail = (message: string): never => {
    throw new ConfigurationError(message);
  };
  if (typeof options !== 'object' || options === null) fail('options must be an object');
  if (typeof options.issuer !== 'string' || options.issuer === '') fail('issuer is required');
  if (typeof options.audience !== 'string' || options.audience === '') fail('audience is required');
  if (!isUrl(options.jwks) && !Array.isArray((options.jwks as JSONWebKeySet | undefined)?.keys)) fail('jwks must be a URL or a JWK Set');
  if (!isUrl(options.publicUrl) || !/^https?:/.test(options.publicUrl)) fail('publicUrl must be an http(s) URL');
  if (/[?#]/.test(options.publicUrl)) fail('publicUrl must not have a query or fragment');
  if (options.allowedActors !== undefined && (!Array.isArray(options.allowedActors) || options.allowedActors.some((a) => typeof a !== 'string')))
    fail('allowedActors must be an array of agent ids');
  for (const name of ['clockSkewSeconds', 'proofMaxAgeSeconds', 'nonceSlotSeconds'] as const)
    if (!nonNegative(options[name])) fail(`${name} must be a number ≥ 0`);
  const introspection = options.introspection;
  if (introspection !== undefined) {
    if (!isUrl(introspection.endpoint)) fail('introspection.endpoint must be a URL');
    if (typeof introspection.clientId !== 'string' || introspection.clientId === '') fail('introspection.clientId is required');
    if (typeof introspection.clientSecret !== 'string' || introspection.clientSecret === '') fail('introspection.clientSecret is required');
    if (!nonNegative(introspection.cacheTtlSeconds)) fail('introspection.cacheTtlSeconds must be a number ≥ 0');
  }
  if (options.replayCache !== undefined && typeof options.replayCache.checkAndInsert !== 'function') fail('replayCache must implement checkAndInsert');
  const statusList = options.statusList;
  if (statusList !== undefined && typeof statusList !== 'boolean' && (typeof statusList !== 'object' || statusList === null || !nonNegative(statusList.maxCacheSeconds)))
    fail('statusList must be a boolean or { maxCacheSeconds ≥ 0, required }');
  if (options.revocations !== undefined && typeof options.revocations?.isRevoked !== 'function') fail('revocations must implement isRevoked');
}
