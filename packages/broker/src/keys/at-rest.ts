import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { MandateError } from '../core/errors.ts';

/**
 * Keys at rest (docs/keys-at-rest.md): private signing JWKs and the broker's shared HMAC secrets
 * sealed with AES-256-GCM under a wrapping key the operator keeps outside the database (an env
 * var). A sealed value reads `mse1.<wrapping key id>.<iv>.<ciphertext>.<tag>`, all base64url.
 *
 * NIST SP 800-38D §8.2.2: a random 96-bit IV per seal; with far fewer than 2^32 seals per wrapping
 * key (one per key, secret and start), the collision bound is never approached. The AAD binds the
 * value to its row (purpose and key id / secret name), so a sealed value moved to another row fails.
 */
export interface WrappingKey {
  /** Names the key without revealing it: the first 8 bytes of SHA-256("mandate-wrap" ‖ key). */
  id: string;
  key: Buffer;
}

/** What a sealed value protects; part of the AAD. */
export type SealPurpose = 'signing-key' | 'secret';

const PREFIX = 'mse1';
const IV_BYTES = 12;
const TAG_BYTES = 16;
export const WRAPPING_KEY_BYTES = 32;

/** A wrapping key from its base64url text (32 bytes); null when the text is not one. */
export function parseWrappingKey(text: string): WrappingKey | null {
  if (!/^[A-Za-z0-9_-]{43}$/.test(text.trim())) return null;
  const key = Buffer.from(text.trim(), 'base64url');
  if (key.length !== WRAPPING_KEY_BYTES) return null;
  return { id: createHash('sha256').update('mandate-wrap').update(key).digest().subarray(0, 8).toString('base64url'), key };
}

export function isSealed(value: string): boolean {
  return value.startsWith(`${PREFIX}.`);
}

/** The wrapping key id a sealed value names (null when it is not sealed). */
export function sealedWith(value: string): string | null {
  return isSealed(value) ? (value.split('.')[1] ?? null) : null;
}

const aad = (purpose: SealPurpose, name: string) => Buffer.from(`mandate/at-rest/v1\0${purpose}\0${name}`, 'utf8');

export function seal(wrapping: WrappingKey, purpose: SealPurpose, name: string, plaintext: string): string {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', wrapping.key, iv, { authTagLength: TAG_BYTES }).setAAD(aad(purpose, name));
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return [PREFIX, wrapping.id, iv.toString('base64url'), body.toString('base64url'), cipher.getAuthTag().toString('base64url')].join('.');
}

/**
 * Opens a sealed value with whichever of `keys` sealed it. Every failure is
 * ERR_KEYS_AT_REST_UNREADABLE with a message naming the row and the key ids, never key material.
 */
export function open(keys: readonly WrappingKey[], purpose: SealPurpose, name: string, sealed: string): string {
  const parts = sealed.split('.');
  const what = `the ${purpose} ${name}`;
  if (parts.length !== 5 || parts[0] !== PREFIX) unreadable(`${what} is not a sealed value this version reads`);
  const wrapping = keys.find((k) => k.id === parts[1]);
  if (!wrapping) {
    const have = keys.length === 0 ? 'no wrapping key is configured (keys.encryptionKeyEnv)' : `the configured wrapping keys are ${keys.map((k) => k.id).join(', ')}`;
    unreadable(`${what} is sealed with wrapping key ${parts[1]}, but ${have}`);
  }
  try {
    const decipher = createDecipheriv('aes-256-gcm', wrapping.key, Buffer.from(parts[2]!, 'base64url'), { authTagLength: TAG_BYTES }).setAAD(aad(purpose, name));
    decipher.setAuthTag(Buffer.from(parts[4]!, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(parts[3]!, 'base64url')), decipher.final()]).toString('utf8');
  } catch {
    return unreadable(`${what} does not open with wrapping key ${wrapping.id}: the stored value was altered or moved`);
  }
}

function unreadable(message: string): never {
  throw new MandateError('ERR_KEYS_AT_REST_UNREADABLE', message);
}
