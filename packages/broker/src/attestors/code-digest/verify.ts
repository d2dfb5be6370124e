import { MandateError } from '../../core/errors.ts';
import type { AttestorResult } from '../../ports/attestor.ts';
import { digestEvidence } from '../evidence-digest.ts';

const DIGEST = /^sha256:[0-9a-fA-F]{64}$/;

/**
 * Checks the shape `{ digest: 'sha256:<64 hex>' }`; hex is lower-cased so equalities compare one
 * spelling. PROTOCOL §3: a claim alone yields at most `warning`; `affirmableBy` lets the policy
 * affirm it when an equality binds it to a measured value.
 */
export function verifyCodeDigest(evidence: unknown): AttestorResult {
  if (typeof evidence !== 'object' || evidence === null || Array.isArray(evidence)) malformed('shape', 'evidence must be an object { digest }');
  const members = Object.keys(evidence);
  if (members.length !== 1 || members[0] !== 'digest') malformed('members', 'evidence must have exactly one member, digest');
  const { digest } = evidence as { digest: unknown };
  if (typeof digest !== 'string') malformed('type', 'digest must be a string');
  if (!digest.startsWith('sha256:')) malformed('algorithm', 'digest must be a sha256 digest: sha256:<64 hex>');
  if (!DIGEST.test(digest)) malformed('value', 'digest must be sha256: followed by 64 hex digits');
  return {
    attestor: 'code-digest',
    status: 'warning',
    claims: { digest: digest.toLowerCase() },
    measured: [],
    affirmableBy: ['digest'],
    evidenceDigest: digestEvidence(evidence),
  };
}

function malformed(reason: string, message: string): never {
  throw new MandateError('ERR_CODE_DIGEST_MALFORMED', message, { reason });
}
