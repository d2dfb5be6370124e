import { CLIENT_ATTESTATION_POP_TYP } from '@mandate/sdk/protocol';
import type { KeyObject } from 'node:crypto';
import { MandateError } from '../core/errors.ts';
import type { Clock } from '../ports/clock.ts';
import type { ReplayCache } from '../ports/replay-cache.ts';
import { JwsError, parseJws, verifyJwsSignature } from './jws.ts';


/**
 * draft-ietf-oauth-attestation-based-client-auth §5.2: the PoP JWT proves possession of the key
 * the attestation is bound to. Our attestation names that key by thumbprint (`cnf.jkt`), and the
 * request's DPoP proof carries the key itself, so the PoP is checked with the DPoP key once its
 * thumbprint is known to equal `cnf.jkt`.
 */
export async function verifyClientAttestationPop(
  pop: string | undefined,
  expected: { clientId: string; issuer: string; key: KeyObject },
  deps: { replay: ReplayCache; clock: Clock; iatWindowSeconds: number },
): Promise<void> {
  const fail = (message: string): never => {
    throw new MandateError('ERR_MINT_ACTOR_TOKEN', message, { mandate_error: 'attestation_pop_invalid' });
  };
  if (!pop) return fail('the OAuth-Client-Attestation-PoP header is required');
  let jws;
  try {
    jws = parseJws(pop);
    verifyJwsSignature(jws, expected.key);
  } catch (error) {
    if (error instanceof JwsError) return fail(`attestation PoP: ${error.message}`);
    throw error;
  }
  const { iss, aud, jti, iat } = jws.payload;
  if (jws.header.typ !== CLIENT_ATTESTATION_POP_TYP) fail(`attestation PoP typ must be ${CLIENT_ATTESTATION_POP_TYP}`);
  if (iss !== expected.clientId) fail('attestation PoP iss must be the client_id');
  if (aud !== expected.issuer) fail('attestation PoP aud must be the issuer');
  const now = Math.floor(deps.clock.now() / 1000);
  if (typeof iat !== 'number' || Math.abs(now - iat) > deps.iatWindowSeconds) fail('attestation PoP iat is outside the accepted window');
  if (typeof jti !== 'string' || jti.length === 0 || jti.length > 256) fail('attestation PoP jti is required');
  if (!(await deps.replay.checkAndInsert('client-attestation-pop', `${expected.clientId}:${jti}`, ((iat as number) + deps.iatWindowSeconds + 1) * 1000, deps.clock.now())))
    fail('attestation PoP was already used');
}
