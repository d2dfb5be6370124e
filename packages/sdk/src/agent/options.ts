import type { JWK } from 'jose';
import { ConfigurationError } from '../errors.ts';
import type { EvidenceItem, EvidenceProvider } from './attest.ts';
import type { Clock } from './clock.ts';

/**
 * Options of `createAgentClient`.
 *
 * @example
 * ```ts
 * const options: AgentClientOptions = {
 *   issuer: 'http://localhost:7420',
 *   clientId: 'agt_2c5d',
 *   clientKey: JSON.parse(process.env.AGENT_KEY!),
 *   grants: JSON.parse(await readFile('grants.json', 'utf8')),
 * };
 * ```
 */
export interface AgentClientOptions {
  /** The broker's issuer identifier, exactly as it appears in its metadata (e.g. `http://localhost:7420`). */
  issuer: string;
  /** The agent id (`agt_…`), its OAuth `client_id`. */
  clientId: string;
  /** The private key registered for the agent (`private_key_jwt`): P-256 (ES256) or Ed25519 (EdDSA). */
  clientKey: CryptoKey | JWK;
  /** The DPoP key pair tokens are bound to; a non-extractable ES256 pair is generated when absent. */
  dpopKey?: CryptoKeyPair;
  /** Collects fresh evidence for each attestation (asking, polling, every renewal). */
  evidence?: EvidenceProvider | EvidenceItem[];
  /** Mandate grants kept from an earlier run, by resource (see `AgentClient.grants()`). */
  grants?: Record<string, string>;
  /** Renew tokens without a grant through `client_credentials` (autonomous agents). */
  autonomous?: boolean;
  /** Seconds before expiry at which a cached token is renewed (at most half its lifetime). Default 30. */
  renewBeforeSeconds?: number;
  fetch?: typeof fetch;
  /** Time source and sleep; defaults to the system clock. */
  clock?: Clock;
}

/** Checks every option with a message that names it. */
export function checkAgentOptions(options: AgentClientOptions): void {
  if (typeof options !== 'object' || options === null) throw new ConfigurationError('options must be an object');
  if (typeof options.issuer !== 'string' || !URL.canParse(options.issuer)) throw new ConfigurationError('issuer must be an absolute URL');
  const { protocol } = new URL(options.issuer);
  if (protocol !== 'https:' && protocol !== 'http:') throw new ConfigurationError('issuer must be an http(s) URL');
  if (typeof options.clientId !== 'string' || options.clientId === '') throw new ConfigurationError('clientId is required');
  if (typeof options.clientKey !== 'object' || options.clientKey === null) throw new ConfigurationError('clientKey must be a private CryptoKey or JWK');
  if (options.dpopKey !== undefined && (typeof options.dpopKey !== 'object' || !options.dpopKey.privateKey || !options.dpopKey.publicKey))
    throw new ConfigurationError('dpopKey must be a CryptoKeyPair');
  if (options.evidence !== undefined && typeof options.evidence !== 'function' && !Array.isArray(options.evidence))
    throw new ConfigurationError('evidence must be a function or an array of evidence items');
  if (options.renewBeforeSeconds !== undefined && !(options.renewBeforeSeconds >= 0)) throw new ConfigurationError('renewBeforeSeconds must be ≥ 0');
  if (options.fetch !== undefined && typeof options.fetch !== 'function') throw new ConfigurationError('fetch must be a function');
  for (const [resource, grant] of Object.entries(options.grants ?? {}))
    if (typeof grant !== 'string' || grant === '') throw new ConfigurationError(`grants.${resource} must be a non-empty string`);
}
