import type { JWTPayload } from 'jose';
import { completeJws, JwsError, parseJwsHeader, signatureVerifies, type JwsHead, type ParsedJws } from '../jws/index.ts';
import { AGENT_TASK_TYPE, type AgentTask } from '../protocol/index.ts';
import { VerifierError, type VerifierErrorCode } from './errors.ts';
import type { KeySource } from './keys.ts';

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
  keys: KeySource;
  issuer: string;
  audience: string;
  skewSeconds: number;
  nowSeconds: number;
}

const TYPES = ['at+jwt', 'application/at+jwt'];

type Fail = (code: VerifierErrorCode, message: string, cause?: unknown) => never;
const fail: Fail = (code, message, cause) => {
  throw new VerifierError(code, message, { cause });
};

/**
 * RFC 9068 §4 / PROTOCOL §7: `typ`, alg allow-list (before any key is looked up, so `none` and
 * HS256-with-the-public-key never reach a verifier), signature against the issuer's keys, `iss`,
 * `exp`/`nbf` with skew, `aud`, the `agent-task` location, and `cnf.jkt`. The token is parsed once
 * by the strict JWS module and verified with node:crypto on keys imported once per JWKS key.
 *
 * @example
 * ```ts
 * const claims = await verifyAccessToken(token, { keys, issuer, audience, skewSeconds: 30, nowSeconds });
 * ```
 */
export async function verifyAccessToken(token: string, expected: AccessTokenExpectations): Promise<AccessTokenClaims> {
  const head = readHeader(token);
  const typ = head.header.typ;
  if (typeof typ !== 'string' || !TYPES.includes(typ.toLowerCase())) fail('ERR_TOKEN_TYP', 'the access token typ must be at+jwt');
  const jws = readRest(head);
  const kid = jws.header.kid;
  const found = expected.keys.keysFor(jws.alg, typeof kid === 'string' ? kid : undefined);
  const keys = Array.isArray(found) ? found : await found;
  if (!keys.some((key) => signatureVerifies(jws, key))) fail('ERR_TOKEN_SIGNATURE', 'the access token signature is invalid');
  const payload = jws.payload;
  checkTimes(payload, expected);
  if (payload.aud !== expected.audience) fail('ERR_TOKEN_AUDIENCE', 'the access token is for another audience');
  for (const claim of ['sub', 'client_id', 'jti'] as const)
    if (typeof payload[claim] !== 'string' || payload[claim] === '') fail('ERR_TOKEN_CLAIMS', `the access token has no ${claim}`);
  const jkt = (payload.cnf as { jkt?: unknown } | undefined)?.jkt;
  if (typeof jkt !== 'string' || jkt === '') fail('ERR_TOKEN_CLAIMS', 'the access token is not DPoP-bound (no cnf.jkt)');
  checkTask(payload.authorization_details, expected);
  return payload as AccessTokenClaims;
}

function readHeader(token: string): JwsHead {
  try {
    return parseJwsHeader(token);
  } catch (error) {
    return fail('ERR_TOKEN_MALFORMED', 'the access token is not a JWS', error);
  }
}

function readRest(head: JwsHead): ParsedJws {
  try {
    return completeJws(head);
  } catch (error) {
    if (!(error instanceof JwsError)) throw error;
    if (error.code === 'ERR_JWS_ALG') return fail('ERR_TOKEN_ALG', `the access token ${error.message}`, error);
    if (error.code === 'ERR_JWS_SIGNATURE') return fail('ERR_TOKEN_SIGNATURE', 'the access token signature is invalid', error);
    return fail('ERR_TOKEN_MALFORMED', 'the access token could not be verified', error);
  }
}

/** RFC 7519 §4.1: `iss` exactly; `iat` and `exp` required; `nbf` and `exp` with the skew. */
function checkTimes(payload: Record<string, unknown>, expected: AccessTokenExpectations): void {
  const { iss, iat, nbf, exp } = payload;
  const now = expected.nowSeconds;
  if (iss !== expected.issuer) fail('ERR_TOKEN_ISSUER', 'the access token is from another issuer');
  if (!Number.isFinite(iat)) fail('ERR_TOKEN_CLAIMS', 'the access token claim iat is missing or invalid');
  if (nbf !== undefined && (!Number.isFinite(nbf) || (nbf as number) > now + expected.skewSeconds)) fail('ERR_TOKEN_NOT_YET_VALID', 'the access token is not valid yet');
  if (!Number.isFinite(exp)) fail('ERR_TOKEN_CLAIMS', 'the access token claim exp is missing or invalid');
  if ((exp as number) <= now - expected.skewSeconds) fail('ERR_TOKEN_EXPIRED', 'the access token has expired');
}

/** PROTOCOL §7: one `agent-task` whose only location is this audience, not past `notAfter`. */
function checkTask(details: unknown, expected: AccessTokenExpectations): void {
  const task = Array.isArray(details) && details.length === 1 ? (details[0] as Partial<AgentTask> | null) : null;
  if (!task || task.type !== AGENT_TASK_TYPE || !Array.isArray(task.actions)) fail('ERR_TOKEN_CLAIMS', 'the access token has no agent-task authorization details');
  const locations = task!.locations;
  if (!Array.isArray(locations) || locations.length !== 1 || locations[0] !== expected.audience)
    fail('ERR_TOKEN_LOCATION', 'the task location is not this audience');
  const notAfter = task!.constraints?.notAfter;
  if (typeof notAfter === 'number' && notAfter + expected.skewSeconds < expected.nowSeconds) fail('ERR_TOKEN_EXPIRED', 'the task has ended (notAfter)');
}
