import { decodeProtectedHeader, errors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { AGENT_TASK_TYPE, SIGNING_ALGS, type AgentTask } from '../protocol/index.ts';
import { VerifierError, type VerifierErrorCode } from './errors.ts';

/**
 * The claims of a Mandate access token (RFC 9068 with PROTOCOL §5).
 *
 * @example
 * ```ts
 * const { claims } = await verifier.verifyRequest(request);
 * console.log(claims.sub, claims.act?.sub, claims.cnf.jkt);
 * ```
 */
export interface AccessTokenClaims extends JWTPayload {
  iss: string;
  /** The human (`usr_…`), or the agent for autonomous tokens. */
  sub: string;
  aud: string;
  client_id: string;
  exp: number;
  iat: number;
  jti: string;
  /** The agent acting for `sub` (RFC 8693 §4.1); absent on autonomous tokens. */
  act?: { sub: string; sub_profile?: string; act?: unknown };
  sub_profile?: string;
  authorization_details: AgentTask[];
  cnf: { jkt: string };
}

export interface AccessTokenExpectations {
  keys: JWTVerifyGetKey;
  issuer: string;
  audience: string;
  skewSeconds: number;
  nowSeconds: number;
}

const TYPES = ['at+jwt', 'application/at+jwt'];

/**
 * RFC 9068 §4 / PROTOCOL §7: `typ`, alg allow-list (before any key is looked up, so `none` and
 * HS256-with-the-public-key never reach a verifier), signature against the JWKS, `iss`, `aud`,
 * `exp`/`nbf` with skew, the `agent-task` location, and `cnf.jkt`.
 */
export async function verifyAccessToken(token: string, expected: AccessTokenExpectations): Promise<AccessTokenClaims> {
  const fail = (code: VerifierErrorCode, message: string, cause?: unknown): never => {
    throw new VerifierError(code, message, { cause });
  };
  let header;
  try {
    header = decodeProtectedHeader(token);
  } catch (error) {
    return fail('ERR_TOKEN_MALFORMED', 'the access token is not a JWS', error);
  }
  if (typeof header.typ !== 'string' || !TYPES.includes(header.typ.toLowerCase())) fail('ERR_TOKEN_TYP', 'the access token typ must be at+jwt');
  if (!(SIGNING_ALGS as readonly unknown[]).includes(header.alg)) fail('ERR_TOKEN_ALG', `the access token alg ${String(header.alg)} is not allowed`);
  const payload = await verifySignature(token, expected, fail);
  if (payload.aud !== expected.audience) fail('ERR_TOKEN_AUDIENCE', 'the access token is for another audience');
  for (const claim of ['sub', 'client_id', 'jti'] as const)
    if (typeof payload[claim] !== 'string' || payload[claim] === '') fail('ERR_TOKEN_CLAIMS', `the access token has no ${claim}`);
  const jkt = (payload.cnf as { jkt?: unknown } | undefined)?.jkt;
  if (typeof jkt !== 'string' || jkt === '') fail('ERR_TOKEN_CLAIMS', 'the access token is not DPoP-bound (no cnf.jkt)');
  checkTask(payload.authorization_details, expected, fail);
  return payload as AccessTokenClaims;
}

async function verifySignature(token: string, expected: AccessTokenExpectations, fail: (code: VerifierErrorCode, message: string, cause?: unknown) => never) {
  try {
    const { payload } = await jwtVerify(token, expected.keys, {
      algorithms: [...SIGNING_ALGS],
      issuer: expected.issuer,
      clockTolerance: expected.skewSeconds,
      currentDate: new Date(expected.nowSeconds * 1000),
      requiredClaims: ['exp', 'iat'],
    });
    return payload;
  } catch (error) {
    if (error instanceof VerifierError) throw error;
    if (error instanceof errors.JWKSNoMatchingKey) return fail('ERR_TOKEN_KEY_UNKNOWN', 'no published key matches the access token kid', error);
    if (error instanceof errors.JWSSignatureVerificationFailed) return fail('ERR_TOKEN_SIGNATURE', 'the access token signature is invalid', error);
    if (error instanceof errors.JWTExpired) return fail('ERR_TOKEN_EXPIRED', 'the access token has expired', error);
    if (error instanceof errors.JWTClaimValidationFailed) {
      if (error.claim === 'iss') return fail('ERR_TOKEN_ISSUER', 'the access token is from another issuer', error);
      if (error.claim === 'nbf' || error.claim === 'iat') return fail('ERR_TOKEN_NOT_YET_VALID', 'the access token is not valid yet', error);
      return fail('ERR_TOKEN_CLAIMS', `the access token claim ${error.claim} is missing or invalid`, error);
    }
    if (error instanceof errors.JOSEError) return fail('ERR_TOKEN_MALFORMED', 'the access token could not be verified', error);
    throw error;
  }
}

/** PROTOCOL §7: one `agent-task` whose only location is this audience, not past `notAfter`. */
function checkTask(details: unknown, expected: AccessTokenExpectations, fail: (code: VerifierErrorCode, message: string) => never): void {
  const task = Array.isArray(details) && details.length === 1 ? (details[0] as Partial<AgentTask> | null) : null;
  if (!task || task.type !== AGENT_TASK_TYPE || !Array.isArray(task.actions)) fail('ERR_TOKEN_CLAIMS', 'the access token has no agent-task authorization details');
  const locations = task!.locations;
  if (!Array.isArray(locations) || locations.length !== 1 || locations[0] !== expected.audience)
    fail('ERR_TOKEN_LOCATION', 'the task location is not this audience');
  const notAfter = task!.constraints?.notAfter;
  if (typeof notAfter === 'number' && notAfter + expected.skewSeconds < expected.nowSeconds) fail('ERR_TOKEN_EXPIRED', 'the task has ended (notAfter)');
}
