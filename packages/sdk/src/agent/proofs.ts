import { SignJWT } from 'jose';
import { CLIENT_ATTESTATION_POP_TYP, JWT_TYP } from '../protocol/index.ts';
import { randomId, sha256Base64url } from '../util/crypto.ts';
import type { DpopKey, SigningKey } from './keys.ts';

/** Lifetime of a client assertion: PROTOCOL §2 allows at most 60 s. */
const ASSERTION_LIFETIME_SECONDS = 30;

export interface DpopProofInput {
  htm: string;
  /** The request URI; query and fragment are dropped (RFC 9449 §4.2). */
  htu: string;
  nowSeconds: number;
  nonce?: string;
  /** At resource servers: the access token, hashed into `ath`. */
  accessToken?: string;
}

/** RFC 9449 §4.2: a DPoP proof for one request. */
export async function createDpopProof(key: DpopKey, input: DpopProofInput): Promise<string> {
  const url = new URL(input.htu);
  const payload: Record<string, unknown> = { jti: randomId(), htm: input.htm.toUpperCase(), htu: `${url.origin}${url.pathname}` };
  if (input.nonce !== undefined) payload.nonce = input.nonce;
  if (input.accessToken !== undefined) payload.ath = await sha256Base64url(input.accessToken);
  return new SignJWT(payload)
    .setProtectedHeader({ alg: key.alg, typ: JWT_TYP.dpopProof, jwk: key.publicJwk })
    .setIssuedAt(input.nowSeconds)
    .sign(key.key);
}

/** RFC 7523 §3 with PROTOCOL §2: `iss` = `sub` = client id, `aud` = the issuer string exactly. */
export async function createClientAssertion(key: SigningKey, clientId: string, issuer: string, nowSeconds: number): Promise<string> {
  return new SignJWT({})
    .setProtectedHeader({ alg: key.alg, typ: JWT_TYP.clientAuthentication })
    .setIssuer(clientId)
    .setSubject(clientId)
    .setAudience(issuer)
    .setIssuedAt(nowSeconds)
    .setExpirationTime(nowSeconds + ASSERTION_LIFETIME_SECONDS)
    .setJti(randomId())
    .sign(key.key);
}

/**
 * draft-ietf-oauth-attestation-based-client-auth §5.2: the proof of possession sent beside an
 * attestation result. The result names the DPoP key by thumbprint, so the DPoP key signs it.
 */
export async function createClientAttestationPop(key: DpopKey, clientId: string, issuer: string, nowSeconds: number): Promise<string> {
  return new SignJWT({})
    .setProtectedHeader({ alg: key.alg, typ: CLIENT_ATTESTATION_POP_TYP })
    .setIssuer(clientId)
    .setAudience(issuer)
    .setIssuedAt(nowSeconds)
    .setJti(randomId())
    .sign(key.key);
}
