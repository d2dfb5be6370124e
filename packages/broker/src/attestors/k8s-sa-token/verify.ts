import { compactVerify, decodeJwt, decodeProtectedHeader, type JWSHeaderParameters, type JWTPayload } from 'jose';
import { clip } from '../../core/clip.ts';
import { MandateError, type ErrorCode } from '../../core/errors.ts';
import type { AttestorResult, EvidenceBinding } from '../../ports/attestor.ts';
import type { ReplayCache } from '../../ports/replay-cache.ts';
import { digestEvidence, signedContentDigest } from '../evidence-digest.ts';
import type { KeyResolver } from '../oidc-token/keys.ts';
import { emitClaims, readServiceAccount, serviceAccountUsername, type ServiceAccountIdentity } from './service-account.ts';
import type { TokenReviewer, TokenReviewStatus } from './token-review.ts';

/** How the token's signature is checked: locally against the cluster's keys, or by the API server. */
export type TrustSource = { kind: 'keys'; keys: KeyResolver } | { kind: 'review'; reviewer: TokenReviewer };

export interface K8sVerifyContext {
  issuer: string;
  allowedAlgs: readonly string[];
  namespaces?: readonly string[] | undefined;
  allowFixedAudience?: string | undefined;
  skewMs: number;
  replay: ReplayCache;
  source: TrustSource;
}

type Header = JWSHeaderParameters & { alg: string; typ?: string };

const MAX_TOKEN_LENGTH = 16_384;
/** RFC 8725 §3.11: the API server sets no typ; a typed JWT of another kind (`at+jwt`, …) is not this evidence. */
const ACCEPTED_TYP = /^(application\/)?jwt$/i;
const NO_KEY_CODES = new Set(['ERR_JWKS_NO_MATCHING_KEY', 'ERR_JWKS_MULTIPLE_MATCHING_KEYS']);
const EXTRA = 'authentication.kubernetes.io/';

/**
 * Verifies a projected service-account token in one pass, each check ending in its own error.
 * Cheap local checks run before the TokenReview call, the replay insert only after the token is
 * proven authentic (so a forgery cannot burn a real token's jti). The raw token is hashed and dropped.
 *
 * @example
 * const result = await verifyServiceAccountToken(token, binding, { issuer, allowedAlgs: ['RS256'], skewMs: 30_000, replay, source: { kind: 'keys', keys } });
 */
export async function verifyServiceAccountToken(evidence: unknown, binding: EvidenceBinding, ctx: K8sVerifyContext): Promise<AttestorResult> {
  if (typeof evidence !== 'string' || evidence.length === 0 || evidence.length > MAX_TOKEN_LENGTH)
    fail('ERR_K8S_SA_TOKEN_MALFORMED', 'evidence must be a compact JWT string');
  const { header, claims } = decode(evidence);
  if (claims.iss !== ctx.issuer) fail('ERR_K8S_SA_TOKEN_ISSUER', `issuer "${clip(String(claims.iss))}" is not the configured cluster issuer`);
  if (!ctx.allowedAlgs.includes(header.alg)) fail('ERR_K8S_SA_TOKEN_ALG', `alg ${clip(header.alg)} is not allowed`);
  if (header.typ !== undefined && !ACCEPTED_TYP.test(header.typ)) fail('ERR_K8S_SA_TOKEN_TYP', `typ ${clip(header.typ)} is not a service-account token`);
  if (ctx.source.kind === 'keys') await checkSignature(evidence, header, ctx.source.keys, ctx.allowedAlgs);
  const expiresAt = checkLifetime(claims, binding.now, ctx.skewMs);
  // PROTOCOL §3: a TokenRequest lets the pod pick the audience, so it must be the one bound to this challenge and key.
  const bound = hasAudience(claims.aud, binding.expectedAudience);
  if (!bound && (ctx.allowFixedAudience === undefined || !hasAudience(claims.aud, ctx.allowFixedAudience)))
    fail('ERR_K8S_SA_TOKEN_AUDIENCE', 'aud must be mandate:<b64url(SHA-256(nonce ‖ jkt))>');
  const identity = readServiceAccount(claims);
  if (identity === null) fail('ERR_K8S_SA_TOKEN_NOT_SERVICE_ACCOUNT', 'the token has no kubernetes.io service-account claims matching its sub');
  if (ctx.namespaces !== undefined && !ctx.namespaces.includes(identity.namespace))
    fail('ERR_K8S_SA_TOKEN_NAMESPACE', `namespace ${identity.namespace} is not allowed`);
  if (ctx.source.kind === 'review')
    await confirmWithApiServer(ctx.source.reviewer, evidence, bound ? binding.expectedAudience : (ctx.allowFixedAudience as string), identity);
  const digest = digestEvidence(evidence);
  // Without jti, keyed on the signed content: a re-encoded signature is the same token.
  const replayKey = typeof claims.jti === 'string' ? `${ctx.issuer}#${claims.jti}` : `sha256:${signedContentDigest(evidence as string)}`;
  if (!(await ctx.replay.checkAndInsert('k8s-sa-token', replayKey, expiresAt + ctx.skewMs, binding.now)))
    fail('ERR_K8S_SA_TOKEN_REPLAYED', 'the token was already used');
  return {
    attestor: 'k8s-sa-token',
    // Replayable evidence vouches less: a policy must accept `warning` to take it (PROTOCOL §3).
    status: bound ? 'affirming' : 'warning',
    claims: emitClaims(ctx.issuer, identity),
    // Facts the cluster asserts about the pod, not measurements of its code (see README).
    measured: [],
    evidenceDigest: digest,
    expiresAt,
  };
}

function decode(token: string): { header: Header; claims: JWTPayload } {
  try {
    const header = decodeProtectedHeader(token);
    const claims = decodeJwt(token);
    if (typeof header.alg !== 'string' || (header.typ !== undefined && typeof header.typ !== 'string')) throw new TypeError('bad header');
    return { header: header as Header, claims };
  } catch {
    fail('ERR_K8S_SA_TOKEN_MALFORMED', 'evidence is not a compact JWT');
  }
}

async function checkSignature(token: string, header: Header, keys: KeyResolver, algorithms: readonly string[]): Promise<void> {
  let key;
  try {
    key = await keys(header);
  } catch (error) {
    if (NO_KEY_CODES.has((error as { code?: string }).code ?? '')) fail('ERR_K8S_SA_TOKEN_SIGNATURE', 'no key of the cluster matches the token header');
    fail('ERR_K8S_SA_TOKEN_KEYS_UNAVAILABLE', 'the cluster\'s signing keys could not be fetched');
  }
  try {
    await compactVerify(token, key, { algorithms: [...algorithms] });
  } catch {
    fail('ERR_K8S_SA_TOKEN_SIGNATURE', 'signature does not verify with the cluster\'s key');
  }
}

/**
 * exp, nbf, iat with skew. The API server stretches kube-api-access tokens to a year and writes the
 * nominal end as `kubernetes.io.warnafter`; that end is honoured. Returns the expiry in epoch ms.
 */
function checkLifetime(claims: JWTPayload, now: number, skewMs: number): number {
  const warnafter = (claims['kubernetes.io'] as { warnafter?: unknown } | undefined)?.warnafter;
  const end = typeof claims.exp === 'number' ? Math.min(claims.exp, typeof warnafter === 'number' ? warnafter : Infinity) : NaN;
  if (!(end * 1000 > now - skewMs)) fail('ERR_K8S_SA_TOKEN_EXPIRED', 'the token has expired or has no exp');
  if (claims.nbf !== undefined && (typeof claims.nbf !== 'number' || claims.nbf * 1000 > now + skewMs)) fail('ERR_K8S_SA_TOKEN_NOT_YET_VALID', 'nbf lies in the future');
  if (typeof claims.iat !== 'number' || claims.iat * 1000 > now + skewMs) fail('ERR_K8S_SA_TOKEN_IAT', 'iat is missing or lies in the future');
  return end * 1000;
}

function hasAudience(aud: unknown, expected: string): boolean {
  return aud === expected || (Array.isArray(aud) && aud.includes(expected));
}

/**
 * TokenReview (authentication.k8s.io/v1): the API server checks the signature, the expiry, that
 * the bound pod still exists, and which of the requested audiences the token is valid for. An
 * audience-unaware authenticator returns none, which is no confirmation.
 */
async function confirmWithApiServer(reviewer: TokenReviewer, token: string, audience: string, identity: ServiceAccountIdentity): Promise<void> {
  let status: TokenReviewStatus;
  try {
    status = await reviewer.review(token, [audience]);
  } catch {
    fail('ERR_K8S_SA_TOKEN_REVIEW_UNAVAILABLE', 'the Kubernetes API server could not review the token');
  }
  if (!status.authenticated) fail('ERR_K8S_SA_TOKEN_REVIEW_UNAUTHENTICATED', 'the API server did not authenticate the token');
  if (!status.audiences.includes(audience)) fail('ERR_K8S_SA_TOKEN_REVIEW_AUDIENCE', 'the API server did not confirm the token\'s audience');
  if (!sameIdentity(status, identity)) fail('ERR_K8S_SA_TOKEN_REVIEW_IDENTITY', 'the API server authenticated another identity than the token names');
}

/** The reviewed user must be the token's account, and any pod/node the server reports the token's (older servers report none). */
function sameIdentity(status: TokenReviewStatus, identity: ServiceAccountIdentity): boolean {
  const agrees = (key: string, value: string | undefined) => status.extra[EXTRA + key] === undefined || status.extra[EXTRA + key]?.[0] === value;
  return (
    status.username === serviceAccountUsername(identity) &&
    agrees('pod-name', identity.pod?.name) &&
    agrees('pod-uid', identity.pod?.uid) &&
    agrees('node-name', identity.node?.name)
  );
}

function fail(code: ErrorCode, message: string): never {
  throw new MandateError(code, message);
}
