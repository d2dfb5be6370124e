import { createHash } from 'node:crypto';

/**
 * 'sha256:' + base64url(SHA-256(secret)). Safe to show and store: every detected secret carries
 * far more than 100 bits of randomness, so the hash cannot be reversed by guessing. Two copies of
 * the same secret have the same fingerprint, which is how findings are deduplicated.
 */
export function fingerprintOf(secret: string): string {
  return `sha256:${createHash('sha256').update(secret, 'utf8').digest('base64url')}`;
}
