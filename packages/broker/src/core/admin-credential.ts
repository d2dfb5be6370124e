/**
 * The admin token a human presents: `mat_<id>.<secret>`, a 22-character id (128 random bits) and
 * a 43-character secret (256 random bits), both base64url. The id finds the record; only the
 * SHA-256 of the secret is stored.
 */
export const ADMIN_TOKEN_PREFIX = 'mat_';

const CREDENTIAL = /^mat_([A-Za-z0-9_-]{22})\.([A-Za-z0-9_-]{43})$/;
const TOKEN_ID = /^mat_[A-Za-z0-9_-]{22}$/;

export interface AdminCredential {
  /** The token id, `mat_` included. */
  id: string;
  secret: string;
}

export function formatAdminCredential(credential: AdminCredential): string {
  return `${credential.id}.${credential.secret}`;
}

/** Strict: anything but exactly the documented shape is null. */
export function parseAdminCredential(presented: string): AdminCredential | null {
  const match = CREDENTIAL.exec(presented);
  return match ? { id: ADMIN_TOKEN_PREFIX + match[1], secret: match[2]! } : null;
}

export function isAdminTokenId(value: unknown): value is string {
  return typeof value === 'string' && TOKEN_ID.test(value);
}
