import { compactVerify, decodeJwt, decodeProtectedHeader, type JWSHeaderParameters, type JWTPayload } from 'jose';
import { clip } from '../../core/clip.ts';
import { MandateError, type ErrorCode } from '../../core/errors.ts';
import type { AttestorResult, ClaimValue, EvidenceBinding } from '../../ports/attestor.ts';
import type { ReplayCache } from '../../ports/replay-cache.ts';
import { digestEvidence, signedContentDigest } from '../evidence-digest.ts';
import type { OidcIssuerConfig } from './index.ts';
import type { KeyResolver } from './keys.ts';

export interface TrustedIssuer {
  config: OidcIssuerConfig;
  keys: KeyResolver;
}

export interface OidcVerifyContext {
  issuers: ReadonlyMap<string, TrustedIssuer>;
  replay: ReplayCache;
  skewMs: number;
}

const MAX_TOKEN_LENGTH = 16_384;
/** RFC 8725 §3.11: only plain JWT types; an access token (`at+jwt`, RFC 9068 §4) or any other explicitly typed JWT is not identity evidence. */
const ACCEPTED_TYP = /^(application\/)?jwt$/i;
/** jose codes meaning "the issuer has no such key", as opposed to "the keys could not be fetched". */
const NO_KEY_CODES = new Set(['ERR_JWKS_NO_MATCHING_KEY', 'ERR_JWKS_MULTIPLE_MATCHING_KEYS']);

/**
 * Verifies an OIDC token in one pass, each check ending in its own error. The raw token is
 * hashed and dropped: the result holds only its digest and the configured claims (PROTOCOL §3).
 */
export async function verifyOidcToken(evidence: unknown, binding: EvidenceBinding, ctx: OidcVerifyContext): Promise<AttestorResult> {
  if (typeof evidence !== 'string' || evidence.length === 0 || evidence.length > MAX_TOKEN_LENGTH)
    fail('ERR_OIDC_TOKEN_MALFORMED', 'evidence must be a compact JWT string');
  const { header, claims } = decode(evidence);
  const trusted = typeof claims.iss === 'string' ? ctx.issuers.get(claims.iss) : undefined;
  if (!trusted) fail('ERR_OIDC_TOKEN_ISSUER', `issuer "${clip(String(claims.iss))}" is not configured`);
  const issuer = trusted.config;
  if (!(issuer.allowedAlgs as readonly string[]).includes(header.alg)) fail('ERR_OIDC_TOKEN_ALG', `alg ${clip(header.alg)} is not allowed for this issuer`);
  if (header.typ !== undefined && !ACCEPTED_TYP.test(header.typ)) fail('ERR_OIDC_TOKEN_TYP', `typ ${clip(header.typ)} is not an identity token`);
  await checkSignature(evidence, header, trusted);
  const { now } = binding;
  if (typeof claims.exp !== 'number' || claims.exp * 1000 <= now - ctx.skewMs) fail('ERR_OIDC_TOKEN_EXPIRED', 'the token has expired or has no exp');
  if (claims.nbf !== undefined && (typeof claims.nbf !== 'number' || claims.nbf * 1000 > now + ctx.skewMs)) fail('ERR_OIDC_TOKEN_NOT_YET_VALID', 'nbf lies in the future');
  if (typeof claims.iat !== 'number' || claims.iat * 1000 > now + ctx.skewMs) fail('ERR_OIDC_TOKEN_IAT', 'iat is missing or lies in the future');
  // PROTOCOL §3: the audience binds the token to this challenge and DPoP key; a fixed one only where configured.
  const bound = hasAudience(claims.aud, binding.expectedAudience);
  if (!bound && (issuer.allowFixedAudience === undefined || !hasAudience(claims.aud, issuer.allowFixedAudience)))
    fail('ERR_OIDC_TOKEN_AUDIENCE', 'aud must be mandate:<b64url(SHA-256(nonce ‖ jkt))>');
  const digest = digestEvidence(evidence);
  // Without jti, key on what the signature covers: jose reads the signature segment leniently, so the whole text has many spellings.
  const replayKey = typeof claims.jti === 'string' ? `${issuer.issuer}#${claims.jti}` : `sha256:${signedContentDigest(evidence)}`;
  if (!(await ctx.replay.checkAndInsert('oidc-token', replayKey, claims.exp * 1000 + ctx.skewMs, now))) fail('ERR_OIDC_TOKEN_REPLAYED', 'the token was already used');
  return {
    attestor: 'oidc-token',
    // Replayable evidence vouches less: a policy must accept `warning` to take it (PROTOCOL §3).
    status: bound ? 'affirming' : 'warning',
    claims: emitClaims(claims, issuer.claims),
    measured: [],
    evidenceDigest: digest,
    expiresAt: claims.exp * 1000,
  };
}

function decode(token: string): { header: JWSHeaderParameters & { alg: string; typ?: string }; claims: JWTPayload } {
  try {
    const header = decodeProtectedHeader(token);
    const claims = decodeJwt(token);
    if (typeof header.alg !== 'string' || (header.typ !== undefined && typeof header.typ !== 'string')) throw new TypeError('bad header');
    return { header: header as JWSHeaderParameters & { alg: string; typ?: string }, claims };
  } catch {
    fail('ERR_OIDC_TOKEN_MALFORMED', 'evidence is not a compact JWT');
  }
}

async function checkSignature(token: string, header: JWSHeaderParameters, trusted: TrustedIssuer): Promise<void> {
  let key;
  try {
    key = await trusted.keys(header);
  } catch (error) {
    if (NO_KEY_CODES.has((error as { code?: string }).code ?? '')) fail('ERR_OIDC_TOKEN_SIGNATURE', 'no key of the issuer matches the token header');
    fail('ERR_OIDC_ISSUER_UNAVAILABLE', `the keys of ${trusted.config.issuer} could not be fetched`);
  }
  try {
    await compactVerify(token, key, { algorithms: trusted.config.allowedAlgs });
  } catch {
    fail('ERR_OIDC_TOKEN_SIGNATURE', 'signature does not verify with the issuer\'s key');
  }
}

function hasAudience(aud: unknown, expected: string): boolean {
  return aud === expected || (Array.isArray(aud) && aud.includes(expected));
}

/** `iss` and the configured claims that are scalars or string lists; anything else is not emitted. */
function emitClaims(claims: JWTPayload, names: readonly string[]): Record<string, ClaimValue> {
  const out: Record<string, ClaimValue> = { iss: claims.iss as string };
  for (const name of names) {
    const value = claims[name];
    if (typeof value === 'string' || typeof value === 'boolean' || (typeof value === 'number' && Number.isFinite(value))) out[name] = value;
    else if (Array.isArray(value) && value.every((v) => typeof v === 'string')) out[name] = [...value];
  }
  return out;
}

function fail(code: ErrorCode, message: string): never {
  throw new MandateError(code, message);
}
