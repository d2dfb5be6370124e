import { base64url } from 'jose';

const encoder = new TextEncoder();

/** SHA-256 of the UTF-8 bytes (or of the bytes given), with WebCrypto so any runtime works. */
export async function sha256(input: string | Uint8Array): Promise<Uint8Array> {
  const bytes = (typeof input === 'string' ? encoder.encode(input) : input) as Uint8Array<ArrayBuffer>;
  return new Uint8Array(await globalThis.crypto.subtle.digest('SHA-256', bytes));
}

/** base64url (no padding) of SHA-256: the form of `ath` (RFC 9449 §4.2) and of evidence audiences. */
export async function sha256Base64url(input: string | Uint8Array): Promise<string> {
  return base64url.encode(await sha256(input));
}

/** A random identifier with 128 bits of entropy, for `jti` values. */
export function randomId(): string {
  return base64url.encode(globalThis.crypto.getRandomValues(new Uint8Array(16)));
}

/** Compares two strings in time independent of where they first differ. */
export function timingSafeEqual(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i += 1) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}
