import { MandateError } from '../core/errors.ts';
import type { AttestationSummary, LoopDeps } from './loop-deps.ts';

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
