import { createHash } from 'node:crypto';
import canonicalizeModule from 'canonicalize';

// `canonicalize` is CommonJS; at runtime the default import is the function (see store/chain-hashing.ts).
const canonicalize = canonicalizeModule as unknown as (value: unknown) => string | undefined;

/**
 * SHA-256 (lowercase hex) of one piece of evidence: of its bytes when it is a string (a token),
 * of its RFC 8785 canonical JSON otherwise. PROTOCOL §3: only this digest is kept, never the evidence.
 */
export function digestEvidence(evidence: unknown): string {
  const text = typeof evidence === 'string' ? evidence : (canonicalize(evidence) ?? 'null');
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** SHA-256 (hex) of the JCS of `{ attestor id: evidence digest }`: one digest for a whole `/attest` call. */
export function digestAll(digests: Readonly<Record<string, string>>): string {
  return digestEvidence({ ...digests });
}

/**
 * SHA-256 (hex) of a compact JWS's signing input (`header.payload`): what its signature covers.
 * Replay keys use it, so one signed token re-encoded with another valid signature string is still
 * the same evidence.
 */
export function signedContentDigest(jws: string): string {
  return createHash('sha256').update(jws.slice(0, jws.lastIndexOf('.')), 'utf8').digest('hex');
}
