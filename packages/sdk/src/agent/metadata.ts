import { BROKER_PATH, METADATA_EXTENSION } from '../protocol/index.ts';
import { DiscoveryError } from '../errors.ts';

/**
 * The endpoints an agent uses, resolved from RFC 8414 metadata.
 *
 * @example
 * ```ts
 * const { token, attestation } = await agent.discover();
 * ```
 */
export interface BrokerEndpoints {
  issuer: string;
  token: string;
  backchannelAuthentication: string;
  revocation: string;
  introspection: string;
  challenge: string;
  attestation: string;
  /** TPM attestation-key enrolment (attestor tpm-quote). */
  tpmEnrolment: string;
  tpmActivation: string;
  jwks: string;
  /** The metadata document as served. */
  metadata: Record<string, unknown>;
}

const MEMBERS: Array<[keyof Omit<BrokerEndpoints, 'issuer' | 'metadata'>, string, string]> = [
  ['token', 'token_endpoint', BROKER_PATH.token],
  ['backchannelAuthentication', 'backchannel_authentication_endpoint', BROKER_PATH.backchannelAuthorize],
  ['revocation', 'revocation_endpoint', BROKER_PATH.revoke],
  ['introspection', 'introspection_endpoint', BROKER_PATH.introspect],
  ['challenge', METADATA_EXTENSION.challengeEndpoint, BROKER_PATH.challenge],
  ['attestation', METADATA_EXTENSION.attestationEndpoint, BROKER_PATH.attest],
  ['tpmEnrolment', METADATA_EXTENSION.tpmEnrolmentEndpoint, BROKER_PATH.tpmEnrol],
  ['tpmActivation', METADATA_EXTENSION.tpmActivationEndpoint, BROKER_PATH.tpmActivate],
  ['jwks', 'jwks_uri', BROKER_PATH.jwks],
];

/**
 * RFC 8414 §3: fetches the metadata and checks that it names the configured issuer exactly
 * (§3.3, against mix-up). An endpoint the document omits falls back to the broker's fixed path.
 */
export async function fetchBrokerEndpoints(issuer: string, fetchImpl: typeof fetch): Promise<BrokerEndpoints> {
  const url = issuer.replace(/\/$/, '') + BROKER_PATH.metadata;
  let metadata: unknown;
  try {
    const response = await fetchImpl(url, { headers: { accept: 'application/json' }, redirect: 'error' });
    if (!response.ok) throw new DiscoveryError(`metadata request answered HTTP ${response.status}`);
    metadata = await response.json();
  } catch (error) {
    if (error instanceof DiscoveryError) throw error;
    throw new DiscoveryError(`metadata could not be fetched from ${url}`, { cause: error });
  }
  if (typeof metadata !== 'object' || metadata === null) throw new DiscoveryError('metadata is not a JSON object');
  const document = metadata as Record<string, unknown>;
  if (document.issuer !== issuer) throw new DiscoveryError(`metadata names issuer ${String(document.issuer)}, expected ${issuer}`);
  const endpoints = { issuer, metadata: document } as BrokerEndpoints;
  for (const [name, member, path] of MEMBERS) endpoints[name] = endpointOf(document, member, issuer.replace(/\/$/, '') + path);
  return endpoints;
}

function endpointOf(document: Record<string, unknown>, member: string, fallback: string): string {
  const value = document[member];
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || !URL.canParse(value)) throw new DiscoveryError(`metadata member ${member} is not a URL`);
  return value;
}
