import { base64url } from 'jose';
import { timingSafeEqual } from '../util/crypto.ts';

export interface NonceSource {
  /** The nonce of the current time slot. */
  current(nowSeconds: number): Promise<string>;
  /** Whether `nonce` belongs to the current or the previous slot. */
  accepts(nonce: unknown, nowSeconds: number): Promise<boolean>;
}

const encoder = new TextEncoder();

/**
 * Stateless DPoP nonces (RFC 9449 §9): HMAC(secret, time slot), the current and the previous slot
 * accepted, so every instance sharing `secret` accepts every other instance's nonce.
 */
export function createNonceSource(secret: Uint8Array | string | undefined, slotSeconds: number): NonceSource {
  const raw = secret === undefined ? globalThis.crypto.getRandomValues(new Uint8Array(32)) : typeof secret === 'string' ? encoder.encode(secret) : secret;
  const key = globalThis.crypto.subtle.importKey('raw', raw as Uint8Array<ArrayBuffer>, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  const forSlot = async (slot: number) => {
    const mac = await globalThis.crypto.subtle.sign('HMAC', await key, encoder.encode(`dpop-nonce:${slot}`));
    return `${slot.toString(36)}.${base64url.encode(new Uint8Array(mac).slice(0, 16))}`;
  };
  const slotOf = (nowSeconds: number) => Math.floor(nowSeconds / slotSeconds);
  return {
    current: (nowSeconds) => forSlot(slotOf(nowSeconds)),
    async accepts(nonce, nowSeconds) {
      if (typeof nonce !== 'string' || nonce.length > 64) return false;
      const slot = slotOf(nowSeconds);
      for (const candidate of [slot, slot - 1]) if (timingSafeEqual(nonce, await forSlot(candidate))) return true;
      return false;
    },
  };
}
