import type { KeyObject } from 'node:crypto';
import { MandateError } from '../core/errors.ts';
import type { PublicJwk } from '../core/model.ts';
import { verifyClientAttestationPop } from '../proof/client-attestation-pop.ts';
import { importPublicJwk } from '../proof/jws.ts';
import type { AttestationSummary, LoopDeps } from './loop-deps.ts';

/** The `OAuth-Client-Attestation` and `OAuth-Client-Attestation-PoP` header values, as sent. */
export interface ClientAttestationHeaders {
  attestation: string | undefined;
  pop: string | undefined;
}

/** The machine-readable reason for a failure (PROTOCOL §5 `mandate_error`): the code, spoken. */
export function mandateErrorOf(code: string): string {
  return code.replace(/^ERR_(MINT_)?/, '').toLowerCase();
}

/**
 * The attestation result an agent presents at the token endpoint (`actor_token` or the
 * `OAuth-Client-Attestation` header), verified for this agent and DPoP key. Failures become
 * `invalid_request` with their `mandate_error` (PROTOCOL §5); a stale one keeps its own code.
 */
export async function verifyPresentedAttestation(
  deps: Pick<LoopDeps, 'verifyAttestation'>,
  jwt: string | undefined,
  expected: { agentId: string; jkt: string },
): Promise<AttestationSummary> {
  if (!jwt) throw new MandateError('ERR_MINT_ACTOR_TOKEN', 'an attestation result is required', { mandate_error: 'attestation_missing' });
  try {
    return await deps.verifyAttestation(jwt, expected);
  } catch (error) {
    if (!(error instanceof MandateError)) throw error;
    const reason = mandateErrorOf(error.code);
    throw new MandateError(reason === 'attestation_stale' ? 'ERR_MINT_ATTESTATION_STALE' : 'ERR_MINT_ACTOR_TOKEN', error.message, { mandate_error: reason });
  }
}

const POP_KEY_CACHE_LIMIT = 10_000;
const popKeys = new Map<string, KeyObject>();
/** Entries in the process-wide PoP key cache (mandate_cache_entries). */
export const popKeyCacheSize = (): number => popKeys.size;

/** The DPoP key as a KeyObject, imported once per key: `jkt` is its RFC 7638 thumbprint, computed from this very JWK. */
function popKeyFor(jkt: string, jwk: PublicJwk): KeyObject {
  let key = popKeys.get(jkt);
  if (!key) {
    if (popKeys.size >= POP_KEY_CACHE_LIMIT) popKeys.clear();
    key = importPublicJwk(jwk as unknown as Record<string, unknown>);
    popKeys.set(jkt, key);
  }
  return key;
}

/**
 * draft-ietf-oauth-attestation-based-client-auth: the attestation result in a header, with a PoP
 * signed by the DPoP key the result is bound to (the proof's key, whose thumbprint the result's
 * `cnf.jkt` must equal).
 */
export async function verifyClientAttestation(
  deps: Pick<LoopDeps, 'verifyAttestation' | 'store' | 'clock' | 'config'>,
  headers: ClientAttestationHeaders,
  expected: { agentId: string; jkt: string; jwk: PublicJwk },
): Promise<AttestationSummary> {
  if (!headers.attestation)
    throw new MandateError('ERR_MINT_ACTOR_TOKEN', 'the OAuth-Client-Attestation header is required', { mandate_error: 'attestation_missing' });
  await verifyClientAttestationPop(headers.pop, {
    clientId: expected.agentId, issuer: deps.config.issuer, key: popKeyFor(expected.jkt, expected.jwk),
  }, { replay: deps.store.replay, clock: deps.clock, iatWindowSeconds: deps.config.dpop.iatWindow / 1000 });
  return verifyPresentedAttestation(deps, headers.attestation, expected);
}
