import { compactVerify, decodeJwt, decodeProtectedHeader, type JWK, type JWTPayload } from 'jose';
import { clip } from '../../core/clip.ts';
import { MandateError, type ErrorCode } from '../../core/errors.ts';
import type { AttestorResult, EvidenceBinding } from '../../ports/attestor.ts';
import type { ReplayCache } from '../../ports/replay-cache.ts';
import { digestEvidence, signedContentDigest } from '../evidence-digest.ts';
import { findJwtAuthority, importAuthority, JWT_SVID_ALGS, type JwtSvidAlg } from './authorities.ts';
import type { BundleCache } from './bundle-cache.ts';
import type { SpiffeBundle } from './bundle.ts';
import type { TrustDomainConfig } from './index.ts';
import { parseSpiffeId } from './spiffe-id.ts';

export interface TrustedDomain {
  config: TrustDomainConfig;
  bundles: BundleCache;
}

export interface SvidVerifyContext {
  domains: ReadonlyMap<string, TrustedDomain>;
  replay: ReplayCache;
  skewMs: number;
  fixedAudience: string | undefined;
}

interface SvidHeader {
  alg: string;
  kid?: unknown;
  typ?: unknown;
}

const MAX_TOKEN_LENGTH = 16_384;
/** JWT-SVID §2.3: `typ` absent, `JWT` or `JOSE`. */
const ACCEPTED_TYP = new Set(['JWT', 'JOSE']);

/**
 * Verifies a JWT-SVID in one pass, each check ending in its own error (JWT-SVID §4, Appendix A).
 * The raw token is hashed and dropped: the result holds only its digest and the SPIFFE ID.
 */
export async function verifyJwtSvid(evidence: unknown, binding: EvidenceBinding, ctx: SvidVerifyContext): Promise<AttestorResult> {
  if (typeof evidence !== 'string' || evidence.length === 0 || evidence.length > MAX_TOKEN_LENGTH)
    fail('ERR_SPIFFE_JWT_SVID_MALFORMED', 'evidence must be a JWT-SVID in JWS compact serialization');
  const { header, claims } = decode(evidence);
  if (!(JWT_SVID_ALGS as readonly string[]).includes(header.alg)) fail('ERR_SPIFFE_JWT_SVID_ALG', `alg ${clip(header.alg)} is not a JWT-SVID algorithm`);
  if (header.typ !== undefined && !ACCEPTED_TYP.has(header.typ as string)) fail('ERR_SPIFFE_JWT_SVID_TYP', 'typ must be absent, JWT or JOSE');
  const spiffeId = parseSpiffeId(claims.sub);
  if ('flaw' in spiffeId) fail('ERR_SPIFFE_JWT_SVID_SUBJECT', 'sub is not a valid SPIFFE ID', { reason: spiffeId.flaw });
  const domain = ctx.domains.get(spiffeId.trustDomain);
  if (!domain) fail('ERR_SPIFFE_JWT_SVID_TRUST_DOMAIN', `trust domain "${clip(spiffeId.trustDomain)}" is not configured`);
  const authority = await findAuthority(domain, header.kid);
  await checkSignature(evidence, authority, header.alg as JwtSvidAlg);
  const { now } = binding;
  if (typeof claims.exp !== 'number' || claims.exp * 1000 <= now - ctx.skewMs) fail('ERR_SPIFFE_JWT_SVID_EXPIRED', 'the JWT-SVID has expired or has no exp');
  if (claims.nbf !== undefined && (typeof claims.nbf !== 'number' || claims.nbf * 1000 > now + ctx.skewMs)) fail('ERR_SPIFFE_JWT_SVID_NOT_YET_VALID', 'nbf lies in the future');
  // PROTOCOL §3: the workload picks the audience when it fetches the SVID, so it must name this challenge and DPoP key.
  const bound = hasAudience(claims.aud, binding.expectedAudience);
  if (!bound && (ctx.fixedAudience === undefined || !hasAudience(claims.aud, ctx.fixedAudience)))
    fail('ERR_SPIFFE_JWT_SVID_AUDIENCE', 'aud must contain mandate:<b64url(SHA-256(nonce ‖ jkt))>');
  if (!isPathAllowed(spiffeId.path, domain.config.allowedPaths)) fail('ERR_SPIFFE_JWT_SVID_PATH', `path "${clip(spiffeId.path)}" is not allowed in ${spiffeId.trustDomain}`);
  const digest = digestEvidence(evidence);
  // Keyed on the signed content: the same JWS with its signature re-encoded (spare base64url bits,
  // ECDSA (r, n − s)) still verifies and must count as the same evidence.
  if (!(await ctx.replay.checkAndInsert('spiffe-jwt-svid', `sha256:${signedContentDigest(evidence as string)}`, claims.exp * 1000 + ctx.skewMs, now)))
    fail('ERR_SPIFFE_JWT_SVID_REPLAYED', 'the JWT-SVID was already used');
  return {
    attestor: 'spiffe-jwt-svid',
    // Replayable evidence vouches less: a policy must accept `warning` to take it (PROTOCOL §3).
    status: bound ? 'affirming' : 'warning',
    claims: { spiffe_id: spiffeId.id, trust_domain: spiffeId.trustDomain, path: spiffeId.path },
    measured: [],
    evidenceDigest: digest,
    expiresAt: claims.exp * 1000,
  };
}

/** JWT-SVID §5.1: compact serialization only; jose refuses anything else, and a `crit` it does not know. */
function decode(token: string): { header: SvidHeader; claims: JWTPayload } {
  try {
    const header = decodeProtectedHeader(token);
    const claims = decodeJwt(token);
    if (typeof header.alg !== 'string' || token.split('.').length !== 3) throw new TypeError('bad header');
    return { header: header as SvidHeader, claims };
  } catch {
    fail('ERR_SPIFFE_JWT_SVID_MALFORMED', 'evidence is not a compact JWT');
  }
}

/** The trust domain's JWT authority named by `kid`; an unknown kid reloads the bundle once (key rotation). */
async function findAuthority(domain: TrustedDomain, kid: unknown): Promise<JWK> {
  let found = findJwtAuthority(await loadBundle(domain, 'current'), kid);
  if ('missing' in found && found.missing === 'key') found = findJwtAuthority(await loadBundle(domain, 'reloadForUnknownKey'), kid);
  if ('missing' in found) fail('ERR_SPIFFE_JWT_SVID_KEY_UNKNOWN', `no JWT authority of ${domain.config.trustDomain} has this kid`, { kid: clip(String(kid)) });
  if ('otherUse' in found) fail('ERR_SPIFFE_JWT_SVID_KEY_USE', `the key named by kid is a ${clip(found.otherUse)} authority, not a jwt-svid one`);
  return found.authority;
}

async function loadBundle(domain: TrustedDomain, how: keyof BundleCache): Promise<SpiffeBundle> {
  try {
    return await domain.bundles[how]();
  } catch {
    fail('ERR_SPIFFE_JWT_SVID_BUNDLE_UNAVAILABLE', `the bundle of ${domain.config.trustDomain} could not be loaded`);
  }
}

async function checkSignature(token: string, authority: JWK, alg: JwtSvidAlg): Promise<void> {
  const key = await importAuthority(authority, alg);
  try {
    if (key === null) throw new TypeError('the authority does not fit alg');
    await compactVerify(token, key, { algorithms: [alg] });
  } catch {
    fail('ERR_SPIFFE_JWT_SVID_SIGNATURE', 'signature does not verify with the trust domain\'s JWT authority');
  }
}

function hasAudience(aud: unknown, expected: string): boolean {
  return aud === expected || (Array.isArray(aud) && aud.includes(expected));
}

/** `allowedPaths` entries ending in `/` match every path below them; others match exactly. */
function isPathAllowed(path: string, allowed: readonly string[] | undefined): boolean {
  return allowed === undefined || allowed.some((entry) => (entry.endsWith('/') ? path.startsWith(entry) : path === entry));
}

function fail(code: ErrorCode, message: string, details?: Record<string, unknown>): never {
  throw new MandateError(code, message, details);
}
