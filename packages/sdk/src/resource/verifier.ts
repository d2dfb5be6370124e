import { APPROVAL_METHOD, SUB_PROFILE_AI_AGENT, type AgentTask } from '../protocol/index.ts';
import { headerValues, type HeaderBag } from '../util/headers.ts';
import { verifyAccessToken, type AccessTokenClaims } from './access-token.ts';
import { createProofVerifier } from './dpop-proof.ts';
import { VerifierError } from './errors.ts';
import { expectedHtu } from './htu.ts';
import { createIntrospection } from './introspection.ts';
import { createKeySource } from './keys.ts';
import { createNonceSource } from './nonce.ts';
import { checkVerifierOptions, type VerifierOptions } from './options.ts';
import { createMemoryReplayCache } from './replay-cache.ts';
import { createStatusListCheck } from '../status-list.ts';

/**
 * The parts of an HTTP request the verifier reads.
 *
 * @example
 * ```ts
 * await verifier.verifyRequest({ method: request.method, url: request.url, headers: request.headers });
 * ```
 */
export interface RequestParts {
  method: string;
  /** The request target (`/items?x=1`) or an absolute URL; only its path is used. */
  url: string;
  headers: HeaderBag;
}

/**
 * What a verified request carries.
 *
 * @example
 * ```ts
 * const { agentId, subject, task, autonomous } = await verifier.verifyRequest(request);
 * ```
 */
export interface VerifiedRequest {
  claims: AccessTokenClaims;
  /** The approved task (`authorization_details[0]`). */
  task: AgentTask;
  /** The agent making the call (`act.sub`, or `sub` for autonomous tokens). */
  agentId: string;
  /** The human the agent acts for (`sub`); the agent itself for autonomous tokens. */
  subject: string;
  /** True for a token without a human (`client_credentials`, `sub_profile: ai_agent`). */
  autonomous: boolean;
  /** The thumbprint of the DPoP key that signed the request's proof. */
  jkt: string;
}

/**
 * A resource server's verifier for Mandate tokens. See `createVerifier`.
 *
 * @example
 * ```ts
 * res.setHeader('DPoP-Nonce', await verifier.nonce());
 * ```
 */
export interface Verifier {
  readonly audience: string;
  /** Verifies one request's token and DPoP proof; throws `VerifierError`. */
  verifyRequest(request: RequestParts): Promise<VerifiedRequest>;
  /** The current DPoP nonce, to send as `DPoP-Nonce` on responses when nonces are required. */
  nonce(): Promise<string>;
}

const SCHEME = /^([!#$%&'*+\-.^_`|~0-9A-Za-z]+) +([A-Za-z0-9\-._~+/]+=*)$/;

/**
 * Creates the verifier a resource server uses to accept Mandate access tokens (PROTOCOL §7):
 * RFC 9068 token checks, RFC 9449 DPoP proof and binding, actor allow-list, autonomous and
 * admin-token policies, and revocation through introspection when configured.
 *
 * @example
 * ```ts
 * const verifier = createVerifier({
 *   issuer: 'http://localhost:7420',
 *   audience: 'https://api.example.com',
 *   jwks: 'http://localhost:7420/jwks',
 *   publicUrl: 'https://api.example.com',
 * });
 * const { agentId, subject, task } = await verifier.verifyRequest({ method: 'GET', url: '/issues', headers });
 * ```
 */
export function createVerifier(options: VerifierOptions): Verifier {
  checkVerifierOptions(options);
  const now = options.now ?? Date.now;
  const skew = options.clockSkewSeconds ?? 30;
  const maxAge = options.proofMaxAgeSeconds ?? 60;
  // Issuer keys are imported once per JWKS key; proof keys once per client key (dpop-proof.ts).
  const keys = createKeySource(options.jwks, options.fetch);
  const verifyProof = createProofVerifier();
  const replay = options.replayCache ?? createMemoryReplayCache();
  const nonceSource = createNonceSource(options.nonceSecret, options.nonceSlotSeconds ?? 60);
  const nonces = options.requireNonce ? nonceSource : undefined;
  const introspection = options.introspection ? createIntrospection(options.introspection, options.fetch ?? globalThis.fetch.bind(globalThis)) : undefined;
  const allowedActors = options.allowedActors ? new Set(options.allowedActors) : undefined;
  const statusList = options.statusList
    ? createStatusListCheck({ ...(options.statusList === true ? {} : options.statusList), issuer: options.issuer, keys, now, clockSkewSeconds: skew, ...(options.fetch ? { fetch: options.fetch } : {}) })
    : undefined;
  const seconds = () => Math.floor(now() / 1000);

  const checkPolicy = (claims: AccessTokenClaims) => {
    const autonomous = claims.act === undefined && claims.sub_profile === SUB_PROFILE_AI_AGENT;
    if (claims.act === undefined && !autonomous) throw new VerifierError('ERR_TOKEN_CLAIMS', 'the access token names no actor (act)');
    if (autonomous && !options.acceptAutonomous) throw new VerifierError('ERR_AUTONOMOUS_REJECTED', 'autonomous agent tokens are not accepted here');
    const agentId = autonomous ? claims.sub : claims.act?.sub;
    if (typeof agentId !== 'string' || agentId === '') throw new VerifierError('ERR_TOKEN_CLAIMS', 'the access token act.sub is missing');
    if (allowedActors && !allowedActors.has(agentId)) throw new VerifierError('ERR_ACTOR_NOT_ALLOWED', `agent ${agentId} is not allowed here`);
    const delegation = claims.authorization_details[0]!.delegation;
    if (!autonomous && (typeof delegation !== 'object' || delegation === null)) throw new VerifierError('ERR_TOKEN_CLAIMS', 'the task carries no delegation record');
    if (delegation?.method === APPROVAL_METHOD.adminToken && options.acceptAdminTokenApprovals === false)
      throw new VerifierError('ERR_ADMIN_APPROVAL_REJECTED', 'tasks approved with an admin token are not accepted here');
    return { agentId, autonomous };
  };

  const verifyRequest = async (request: RequestParts): Promise<VerifiedRequest> => {
    const token = bearerOf(request.headers);
    const nowSeconds = seconds();
    const claims = await verifyAccessToken(token, { keys, issuer: options.issuer, audience: options.audience, skewSeconds: skew, nowSeconds });
    const htu = expectedHtu(options.publicUrl, request.url);
    let proof;
    try {
      proof = await verifyProof(headerValues(request.headers, 'dpop'), { method: request.method, htu, accessToken: token, nowSeconds, skewSeconds: skew, maxAgeSeconds: maxAge, nonces });
    } catch (error) {
      if (error instanceof VerifierError && error.code === 'ERR_DPOP_NONCE') error.dpopNonce = await nonceSource.current(nowSeconds);
      throw error;
    }
    // RFC 9449 §7.1: the proof's key is the one the token is bound to.
    if (proof.jkt !== claims.cnf.jkt) throw new VerifierError('ERR_DPOP_KEY_MISMATCH', 'the DPoP proof key is not the key the token is bound to');
    const { agentId, autonomous } = checkPolicy(claims);
    if (!(await replay.checkAndInsert(`${proof.jkt}:${proof.jti}`, proof.iat + maxAge + 1, nowSeconds)))
      throw new VerifierError('ERR_DPOP_REPLAY', 'the DPoP proof was already used');
    // PROTOCOL §7 revocation status: pushed events first (no I/O), then the status list, then introspection.
    if (options.revocations?.isRevoked(claims)) throw new VerifierError('ERR_TOKEN_REVOKED', 'the access token was revoked (pushed event)');
    if (statusList) await statusList.check(claims);
    if (introspection) await introspection.check(token, claims, now());
    return { claims, task: claims.authorization_details[0]!, agentId, subject: claims.sub, autonomous, jkt: proof.jkt };
  };

  return {
    audience: options.audience,
    verifyRequest,
    nonce: () => nonceSource.current(seconds()),
  };
}

/** RFC 9449 §7.1: `Authorization: DPoP <token>`; a bound token sent as `Bearer` is refused (§7.2). */
function bearerOf(headers: HeaderBag): string {
  const values = headerValues(headers, 'authorization');
  if (values.length === 0 || values[0] === '') throw new VerifierError('ERR_TOKEN_MISSING', 'no access token');
  if (values.length > 1) throw new VerifierError('ERR_TOKEN_MALFORMED', 'exactly one Authorization header is allowed');
  const match = SCHEME.exec(values[0]!.trim());
  if (!match) throw new VerifierError('ERR_TOKEN_MALFORMED', 'the Authorization header is malformed');
  const scheme = match[1]!.toLowerCase();
  if (scheme === 'bearer') throw new VerifierError('ERR_TOKEN_BEARER', 'DPoP-bound tokens must use the DPoP scheme, not Bearer');
  if (scheme !== 'dpop') throw new VerifierError('ERR_TOKEN_SCHEME', 'the Authorization scheme must be DPoP');
  return match[2]!;
}
