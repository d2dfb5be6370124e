import { JWT_TYP } from '@mandate/sdk/protocol';
import { MandateError, type ErrorCode } from '../core/errors.ts';
import type { KeyService } from '../keys/key-service.ts';
import { JwsError, parseJws, verifyJwsSignature, type ParsedJws } from '../proof/jws.ts';
import type { AttestorStatus, ClaimValue } from '../ports/attestor.ts';
import type { Clock } from '../ports/clock.ts';

/** Per-attestor part of a result (EAR-shaped, draft-ietf-rats-ear): status and emitted claims. */
export interface ResultAttestor {
  status: AttestorStatus;
  claims: Record<string, ClaimValue>;
}

/** The claims of an attestation result JWT (`typ: attestation-result+jwt`, PROTOCOL §3). */
export interface AttestationResultClaims {
  iss: string;
  sub: string;
  aud: string;
  jti: string;
  cnf: { jkt: string };
  iat: number;
  exp: number;
  verdict: 'affirming' | 'warning';
  policy: string;
  attestors: Record<string, ResultAttestor>;
  evidence_digest: string;
}

/** A verified result, as the token endpoint uses it. Times in epoch seconds. */
export interface VerifiedAttestationResult {
  id: string;
  verdict: 'affirming' | 'warning';
  policy: string;
  iat: number;
  exp: number;
  evidenceDigest: string;
  attestors: Record<string, ResultAttestor>;
}

export interface ExpectedBinding {
  agentId: string;
  jkt: string;
  /** Epoch ms; defaults to the clock. */
  now?: number;
}

export function signAttestationResult(keys: Pick<KeyService, 'sign'>, claims: AttestationResultClaims): string {
  return keys.sign({ typ: JWT_TYP.attestationResult }, { ...claims });
}

/**
 * Verifies a result the broker signed, for `agentId` and the DPoP key `jkt`: one check per rule,
 * each with its own code. A contraindicated verdict is refused with its own code, so the caller
 * can suspend what depends on it (PROTOCOL §3 outcomes).
 *
 * @example
 * const verify = createAttestationResultVerifier({ keys, issuer, clock });
 * const result = await verify(jwt, { agentId: agent.id, jkt: proof.jkt });
 */
export function createAttestationResultVerifier(deps: { keys: Pick<KeyService, 'verificationKey'>; issuer: string; clock: Clock }) {
  const verified = createVerifiedCache();
  // `cacheSize` feeds the mandate_cache_entries gauge (docs/operations.md).
  return Object.assign(async function verifyAttestationResult(jwt: string, expected: ExpectedBinding): Promise<VerifiedAttestationResult> {
    const jws = verified.get(jwt, deps.keys) ?? parse(jwt);
    if (jws.header.typ !== JWT_TYP.attestationResult) fail('ERR_ATTESTATION_TYP', `typ must be ${JWT_TYP.attestationResult}`);
    if (!verified.has(jwt)) {
      verifySignature(jws, deps.keys);
      verified.set(jwt, jws);
    }
    const c = jws.payload;
    if (c.iss !== deps.issuer || c.aud !== deps.issuer) fail('ERR_ATTESTATION_ISSUER', 'iss and aud must be this broker');
    if (c.sub !== expected.agentId) fail('ERR_ATTESTATION_SUBJECT_MISMATCH', 'the result was issued to another agent');
    if ((c.cnf as { jkt?: unknown } | undefined)?.jkt !== expected.jkt) fail('ERR_ATTESTATION_KEY_MISMATCH', 'cnf.jkt is not the DPoP key of this request');
    if (!hasResultShape(c)) fail('ERR_ATTESTATION_INVALID', 'the result lacks jti, iat, exp, policy, attestors or evidence_digest');
    if (c.verdict === 'contraindicated')
      throw new MandateError('ERR_ATTESTATION_CONTRAINDICATED', 'the attestation is contraindicated', { attestation_id: c.jti, evidence_digest: c.evidence_digest });
    if (c.verdict !== 'affirming' && c.verdict !== 'warning') fail('ERR_ATTESTATION_INVALID', 'unknown verdict');
    if (c.exp * 1000 <= (expected.now ?? deps.clock.now())) fail('ERR_ATTESTATION_STALE', 'the attestation result has expired: attest again');
    return { id: c.jti, verdict: c.verdict, policy: c.policy, iat: c.iat, exp: c.exp, evidenceDigest: c.evidence_digest, attestors: c.attestors };
  }, { cacheSize: () => verified.size() });
}

/** Results an agent reuses within their freshness window: how many verified signatures to remember. */
const VERIFIED_CACHE_SIZE = 4096;

/**
 * The signatures of results already verified, by the exact JWT text, so an agent that presents the
 * same result at every mint costs one signature check, not one per mint. Only the signature is
 * cached: every claim check (agent, key, verdict, freshness) runs on each use. An entry is dropped
 * when its `kid` is no longer one of the broker's verification keys (explicit invalidation on key
 * retirement); the oldest entry goes first when full.
 */
function createVerifiedCache() {
  const entries = new Map<string, ParsedJws>();
  return {
    has: (jwt: string) => entries.has(jwt),
    size: () => entries.size,
    get(jwt: string, keys: Pick<KeyService, 'verificationKey'>): ParsedJws | undefined {
      const jws = entries.get(jwt);
      if (jws && keys.verificationKey(String(jws.header.kid)) === null) entries.delete(jwt);
      return entries.get(jwt);
    },
    set(jwt: string, jws: ParsedJws): void {
      if (entries.size >= VERIFIED_CACHE_SIZE) entries.delete(entries.keys().next().value!);
      entries.set(jwt, jws);
    },
  };
}

type ResultShape = Omit<AttestationResultClaims, 'verdict'> & { verdict: unknown };

function hasResultShape(c: Record<string, unknown>): c is Record<string, unknown> & ResultShape {
  return (
    typeof c.jti === 'string' &&
    Number.isInteger(c.iat) &&
    Number.isInteger(c.exp) &&
    typeof c.policy === 'string' &&
    typeof c.evidence_digest === 'string' &&
    typeof c.attestors === 'object' && c.attestors !== null && !Array.isArray(c.attestors)
  );
}

function parse(jwt: string): ParsedJws {
  try {
    return parseJws(jwt);
  } catch (error) {
    if (error instanceof JwsError) fail('ERR_ATTESTATION_INVALID', `not a compact JWS: ${error.message}`);
    throw error;
  }
}

function verifySignature(jws: ParsedJws, keys: Pick<KeyService, 'verificationKey'>): void {
  const key = typeof jws.header.kid === 'string' ? keys.verificationKey(jws.header.kid) : null;
  if (!key) fail('ERR_ATTESTATION_SIGNATURE', 'kid names no key of this broker');
  try {
    verifyJwsSignature(jws, key);
  } catch (error) {
    if (error instanceof JwsError) fail('ERR_ATTESTATION_SIGNATURE', 'signature does not verify');
    throw error;
  }
}

function fail(code: ErrorCode, message: string): never {
  throw new MandateError(code, message);
}
