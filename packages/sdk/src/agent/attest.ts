import { base64url } from 'jose';
import { CLIENT_ASSERTION_TYPE, EVIDENCE_AUDIENCE_PREFIX } from '../protocol/index.ts';
import { ConfigurationError, ResponseFormatError } from '../errors.ts';
import { sha256 } from '../util/crypto.ts';
import { clientAuthentication, type AgentContext } from './context.ts';
import type { JsonObject } from './transport.ts';

/**
 * One evidence signal for `POST /attest`, e.g. `{ attestor: 'oidc-token', evidence: '<jwt>' }`.
 *
 * @example
 * ```ts
 * const item: EvidenceItem = { attestor: 'code-digest', evidence: { digest: 'sha256:…' } };
 * ```
 */
export interface EvidenceItem {
  /** The attestor id configured at the broker (`oidc-token`, `k8s-sa-token`, `code-digest`, …). */
  attestor: string;
  evidence: unknown;
}

/**
 * What evidence must be bound to for one attestation (PROTOCOL §3).
 *
 * @example
 * ```ts
 * const evidence = async ({ audience }: EvidenceBinding) => [{ attestor: 'oidc-token', evidence: await core.getIDToken(audience) }];
 * ```
 */
export interface EvidenceBinding {
  /** The single-use challenge nonce. */
  nonce: string;
  /** RFC 7638 thumbprint of the agent's DPoP public key. */
  jkt: string;
  /** The audience to request for OIDC / Kubernetes / SPIFFE tokens: `evidenceAudience(nonce, jkt)`. */
  audience: string;
}

/**
 * Collects fresh evidence for one binding. Called again for every attestation.
 *
 * @example
 * ```ts
 * const evidence: EvidenceProvider = async ({ audience }) => [
 *   { attestor: 'k8s-sa-token', evidence: await requestServiceAccountToken(audience) },
 * ];
 * ```
 */
export type EvidenceProvider = (binding: EvidenceBinding) => Promise<EvidenceItem[]> | EvidenceItem[];

/**
 * A broker-signed attestation result (`typ: attestation-result+jwt`), bound to the DPoP key.
 *
 * @example
 * ```ts
 * const { attestation, verdict } = await agent.attest();
 * ```
 */
export interface AttestationResult {
  /** The result JWT, to pass as `attestation`, `actor_token` or `OAuth-Client-Attestation`. */
  attestation: string;
  expiresIn: number;
  /** Epoch milliseconds after which the broker treats the result as stale. */
  expiresAt: number;
  verdict: string;
  attestors: Record<string, unknown>;
}

/**
 * A single-use nonce from `POST /challenge`.
 *
 * @example
 * ```ts
 * const { nonce, expiresIn } = await agent.challenge();
 * ```
 */
export interface Challenge {
  nonce: string;
  expiresIn: number;
}

/**
 * The audience an agent requests for nonce-bound evidence tokens (PROTOCOL §3):
 * `'mandate:' + base64url(SHA-256(utf8(nonce) ‖ utf8(jkt)))`.
 *
 * @example
 * ```ts
 * const audience = await evidenceAudience(nonce, jkt);
 * const oidcToken = await core.getIDToken(audience); // GitHub Actions
 * ```
 */
export async function evidenceAudience(nonce: string, jkt: string): Promise<string> {
  if (typeof nonce !== 'string' || nonce === '' || typeof jkt !== 'string' || jkt === '') throw new ConfigurationError('nonce and jkt must be non-empty strings');
  return EVIDENCE_AUDIENCE_PREFIX + base64url.encode(await sha256(nonce + jkt));
}

/** `POST /challenge`: a single-use nonce for `/attest`. */
export async function requestChallenge(ctx: AgentContext): Promise<Challenge> {
  const { challenge } = await ctx.endpoints();
  const body = await ctx.transport.callAs({ url: challenge, dpop: false, build: async () => ({ form: {} }) });
  if (typeof body.nonce !== 'string' || body.nonce === '') throw new ResponseFormatError('challenge response has no nonce', challenge);
  return { nonce: body.nonce, expiresIn: typeof body.expires_in === 'number' ? body.expires_in : 0 };
}

/** Challenge, collect fresh evidence bound to it, and `POST /attest` with a DPoP proof. */
export async function attest(ctx: AgentContext, evidence: EvidenceProvider | EvidenceItem[]): Promise<AttestationResult> {
  const { nonce } = await requestChallenge(ctx);
  const binding: EvidenceBinding = { nonce, jkt: ctx.dpop.jkt, audience: await evidenceAudience(nonce, ctx.dpop.jkt) };
  const items = typeof evidence === 'function' ? await evidence(binding) : evidence;
  if (!Array.isArray(items) || items.length === 0) throw new ConfigurationError('the evidence provider returned no evidence');
  const { attestation: url } = await ctx.endpoints();
  const body = await ctx.transport.callAs({
    url,
    dpop: true,
    build: async () => {
      const auth = await clientAuthentication(ctx);
      return { json: { client_id: ctx.clientId, client_assertion_type: CLIENT_ASSERTION_TYPE, client_assertion: auth.client_assertion, nonce, evidence: items } };
    },
  });
  return parseAttestation(ctx, body, url);
}

function parseAttestation(ctx: AgentContext, body: JsonObject, url: string): AttestationResult {
  if (typeof body.attestation !== 'string') throw new ResponseFormatError('attest response has no attestation', url);
  if (typeof body.expires_in !== 'number') throw new ResponseFormatError('attest response has no expires_in', url);
  return {
    attestation: body.attestation,
    expiresIn: body.expires_in,
    expiresAt: ctx.clock.now() + body.expires_in * 1000,
    verdict: typeof body.verdict === 'string' ? body.verdict : 'unknown',
    attestors: typeof body.attestors === 'object' && body.attestors !== null ? (body.attestors as Record<string, unknown>) : {},
  };
}
