import { createHash } from 'node:crypto';
import canonicalizeModule from 'canonicalize';
import type { ChainHashing } from '../core/audit-chain.ts';

// `canonicalize` is CommonJS (`module.exports = fn`) but its typings declare `export default`,
// which under NodeNext TypeScript reads as `exports.default`; at runtime the default import is the function.
const canonicalize = canonicalizeModule as unknown as (value: unknown) => string | undefined;

/**
 * The audit chain's hashing on Node: RFC 8785 JSON Canonicalization Scheme, then SHA-256 as
 * lowercase hex (PROTOCOL §9). Every writer and verifier must use exactly this pair.
 *
 * @example
 * hashRecord(unhashedRecord, nodeChainHashing);
 */
export const nodeChainHashing: ChainHashing = {
  canonicalize(value: unknown): string {
    const text = canonicalize(value);
    // JCS has no encoding for `undefined` or functions; hashing "undefined" would be silent corruption.
    if (text === undefined) throw new TypeError('value has no JSON canonical form');
    return text;
  },
  sha256Hex(text: string): string {
    return createHash('sha256').update(text, 'utf8').digest('hex');
  },
};
