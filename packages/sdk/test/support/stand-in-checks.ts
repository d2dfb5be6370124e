// Checks the broker stand-in makes on what the SDK sends: client assertions, DPoP proofs,
// attestation results and their PoP. Each failure is an OAuth error the stand-in answers with.
import { calculateJwkThumbprint, decodeProtectedHeader, EmbeddedJWK, importJWK, jwtVerify, type JWK } from 'jose';
import { createHash } from 'node:crypto';

export class WireError extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    message: string,
    readonly extra: Record<string, string> = {},
  ) {
    super(message);
  }
}

export interface CheckState {
  issuer: string;
  now: () => number;
  agents: Map<string, JWK>;
  seenJti: Set<string>;
}

/** PROTOCOL §2: iss = sub = client_id, aud = issuer exactly, typ, exp - iat ≤ 60, single-use jti. */
export async function checkClientAssertion(state: CheckState, form: Record<string, unknown>): Promise<string> {
  const fail = (message: string): never => {
    throw new WireError(401, 'invalid_client', message);
  };
  const clientId = form.client_id;
  if (typeof clientId !== 'string' || !state.agents.has(clientId)) fail('unknown client');
  if (form.client_assertion_type !== 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer') fail('bad client_assertion_type');
  const jwk = state.agents.get(clientId as string)!;
  const key = await importJWK(jwk, jwk.crv === 'Ed25519' ? 'EdDSA' : 'ES256');
  const { payload, protectedHeader } = await jwtVerify(String(form.client_assertion), key, { currentDate: new Date(state.now()) }).catch(() => fail('bad assertion'));
  if (protectedHeader.typ !== 'client-authentication+jwt') fail('assertion typ');
  if (payload.iss !== clientId || payload.sub !== clientId) fail('assertion iss/sub');
  if (payload.aud !== state.issuer) fail('assertion aud must be the issuer string');
  if (typeof payload.exp !== 'number' || typeof payload.iat !== 'number' || payload.exp - payload.iat > 60) fail('assertion lifetime');
  if (typeof payload.jti !== 'string' || state.seenJti.has(`ca:${payload.jti}`)) fail('assertion jti replayed');
  state.seenJti.add(`ca:${payload.jti}`);
  return clientId as string;
}

/** RFC 9449 §4.3 for the stand-in AS; answers `use_dpop_nonce` when a nonce is required. */
export async function checkDpop(state: CheckState, proof: string | undefined, htu: string, nonce: string | undefined): Promise<{ jkt: string; jwk: JWK }> {
  if (!proof) throw new WireError(400, 'invalid_dpop_proof', 'DPoP proof required');
  const header = decodeProtectedHeader(proof);
  if (header.typ !== 'dpop+jwt' || !header.jwk) throw new WireError(400, 'invalid_dpop_proof', 'typ/jwk');
  const { payload } = await jwtVerify(proof, EmbeddedJWK, { currentDate: new Date(state.now()) });
  if (payload.htm !== 'POST' || payload.htu !== htu) throw new WireError(400, 'invalid_dpop_proof', `htm/htu ${String(payload.htu)} ≠ ${htu}`);
  if (Math.abs(Math.floor(state.now() / 1000) - Number(payload.iat)) > 60) throw new WireError(400, 'invalid_dpop_proof', 'iat');
  if (payload.ath !== undefined) throw new WireError(400, 'invalid_dpop_proof', 'no ath at the AS');
  if (nonce !== undefined && payload.nonce !== nonce) throw new WireError(400, 'use_dpop_nonce', 'nonce required', { 'DPoP-Nonce': nonce });
  if (state.seenJti.has(`dpop:${String(payload.jti)}`)) throw new WireError(400, 'invalid_dpop_proof', 'jti replayed');
  state.seenJti.add(`dpop:${String(payload.jti)}`);
  return { jkt: await calculateJwkThumbprint(header.jwk), jwk: header.jwk };
}

/** An attestation result signed by the stand-in: for this agent, this key, still fresh. */
export async function checkAttestation(state: CheckState, key: CryptoKey, jwt: unknown, clientId: string, jkt: string): Promise<void> {
  const fail = (message: string): never => {
    throw new WireError(400, 'invalid_request', message, { mandate_error: 'attestation_stale' });
  };
  if (typeof jwt !== 'string') return fail('attestation missing');
  const { payload } = await jwtVerify(jwt, key, { typ: 'attestation-result+jwt', currentDate: new Date(state.now()) }).catch(() => fail('attestation stale or invalid'));
  if (payload.sub !== clientId || (payload.cnf as { jkt?: string }).jkt !== jkt) throw new WireError(400, 'invalid_request', 'attestation not for this agent/key');
}

/** draft-ietf-oauth-attestation-based-client-auth PoP, signed by the DPoP key. */
export async function checkAttestationPop(state: CheckState, pop: string | undefined, dpopJwk: JWK, clientId: string): Promise<void> {
  if (!pop) throw new WireError(400, 'invalid_request', 'attestation PoP missing');
  const { payload } = await jwtVerify(pop, await importJWK(dpopJwk, dpopJwk.crv === 'Ed25519' ? 'EdDSA' : 'ES256'), {
    typ: 'oauth-client-attestation-pop+jwt', issuer: clientId, audience: state.issuer, currentDate: new Date(state.now()),
  });
  if (typeof payload.jti !== 'string' || state.seenJti.has(`pop:${payload.jti}`)) throw new WireError(400, 'invalid_request', 'PoP jti');
  state.seenJti.add(`pop:${payload.jti}`);
}

/** PROTOCOL §3, computed independently of the SDK. */
export function expectedEvidenceAudience(nonce: string, jkt: string): string {
  return `mandate:${createHash('sha256').update(nonce + jkt).digest('base64url')}`;
}
