import { JWT_TYP } from '@mandate/sdk/protocol';
import { ATTESTATION_CLAIM } from '../core/access-token.ts';
import { MandateError, type ErrorCode } from '../core/errors.ts';
import type { AgentTask } from '../core/mandate.ts';
import { JwsError, parseJws, verifyJwsSignature } from '../proof/jws.ts';
import { mandateErrorOf } from './actor-attestation.ts';
import type { LoopDeps } from './loop-deps.ts';

/** A delegated access token of this broker, presented as `subject_token` to ask for a sub-grant. */
export interface ParentToken {
  jti: string;
  /** The agent the token was issued to (`client_id`, also `act.sub`). */
  clientId: string;
  /** `cnf.jkt`: only a proof by this key may exchange the token (RFC 9449 §6). */
  jkt: string;
  /** The mandate named in `authorization_details[0].delegation.id`. */
  mandateId: string;
  /** The token's `agent-task` without its `delegation` member: what a sub-grant may narrow. */
  task: AgentTask;
  /** Epoch seconds. */
  exp: number;
  /** The attestation summary's `ref` (the stored result) and `evidence_digest`, when present. */
  attestationId: string | null;
  evidenceDigest: string | null;
}

const fail = (code: ErrorCode, message: string): never => {
  throw new MandateError(code, message, { mandate_error: mandateErrorOf(code) });
};

/** RFC 9068 §4 on our own token: `typ`, a key we publish, the signature, `iss`. No `none`, no HMAC. */
function verifiedClaims(deps: Pick<LoopDeps, 'keys' | 'config'>, token: string): Record<string, unknown> {
  try {
    const jws = parseJws(token);
    if (jws.header.typ !== JWT_TYP.accessToken) return fail('ERR_SUB_GRANT_SUBJECT_TOKEN', `subject_token typ must be ${JWT_TYP.accessToken}`);
    const key = typeof jws.header.kid === 'string' ? deps.keys.verificationKey(jws.header.kid) : null;
    if (!key) return fail('ERR_SUB_GRANT_SUBJECT_TOKEN', 'subject_token is not signed by a key of this broker');
    verifyJwsSignature(jws, key);
    if (jws.payload.iss !== deps.config.issuer) return fail('ERR_SUB_GRANT_SUBJECT_TOKEN', 'subject_token was issued by another broker');
    return jws.payload;
  } catch (error) {
    if (error instanceof JwsError) return fail('ERR_SUB_GRANT_SUBJECT_TOKEN', `subject_token: ${error.message}`);
    throw error;
  }
}

/** Only a human-approved (or already delegated) token can be delegated: never an autonomous one. */
function delegatedTask(claims: Record<string, unknown>): { task: AgentTask; mandateId: string } {
  const details = Array.isArray(claims.authorization_details) ? (claims.authorization_details as Array<Record<string, unknown>>) : [];
  const { delegation, ...task } = details[0] ?? {};
  const mandateId = (delegation as { id?: unknown } | undefined)?.id;
  if (typeof claims.act !== 'object' || claims.act === null || typeof mandateId !== 'string')
    return fail('ERR_SUB_GRANT_SUBJECT_TOKEN', 'subject_token carries no delegation: autonomous tokens cannot be delegated');
  return { task: task as unknown as AgentTask, mandateId };
}

/**
 * Reads the parent's access token (PROTOCOL §10): signed by this broker, delegated, not expired.
 * Whether it was revoked is the caller's business (the credential store knows).
 *
 * @example
 * const parent = readParentToken(deps, input.subjectToken);
 * if (parent.jkt !== proofJkt) throw …;
 */
export function readParentToken(deps: Pick<LoopDeps, 'keys' | 'config' | 'clock'>, token: string | undefined): ParentToken {
  if (!token) return fail('ERR_SUB_GRANT_SUBJECT_TOKEN', 'subject_token is required');
  const claims = verifiedClaims(deps, token);
  const { task, mandateId } = delegatedTask(claims);
  const { jti, client_id: clientId, cnf, exp } = claims as { jti?: unknown; client_id?: unknown; cnf?: { jkt?: unknown }; exp?: unknown };
  if (typeof jti !== 'string' || typeof clientId !== 'string' || typeof cnf?.jkt !== 'string' || typeof exp !== 'number')
    return fail('ERR_SUB_GRANT_SUBJECT_TOKEN', 'subject_token lacks jti, client_id, cnf.jkt or exp');
  if (exp * 1000 <= deps.clock.now()) return fail('ERR_SUB_GRANT_PARENT_EXPIRED', 'the parent access token has expired');
  const summary = (claims[ATTESTATION_CLAIM] ?? {}) as { ref?: unknown; evidence_digest?: unknown };
  const text = (value: unknown) => (typeof value === 'string' ? value : null);
  return { jti, clientId, jkt: cnf.jkt, mandateId, task, exp, attestationId: text(summary.ref), evidenceDigest: text(summary.evidence_digest) };
}
