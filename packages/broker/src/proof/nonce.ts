import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Clock } from '../ports/clock.ts';

/**
 * PROTOCOL §6: stateless DPoP nonces, HMAC(shared key, time slot). The key is shared through the
 * store, so any replica verifies any nonce; the current and the previous slot are accepted.
 */
export interface DpopNonces {
  current(): string;
  check(nonce: string): boolean;
}

export function createDpopNonces(key: Buffer, clock: Clock, slotSeconds: number): DpopNonces {
  const slotOf = (ms: number) => Math.floor(ms / 1000 / slotSeconds);
  const make = (slot: number) => {
    const slotBytes = Buffer.alloc(8);
    slotBytes.writeBigUInt64BE(BigInt(slot));
    const mac = createHmac('sha256', key).update(slotBytes).digest().subarray(0, 16);
    return Buffer.concat([slotBytes.subarray(4), mac]).toString('base64url');
  };
  return {
    current: () => make(slotOf(clock.now())),
    check(nonce) {
      const slot = slotOf(clock.now());
      const given = Buffer.from(nonce, 'base64url');
      return [slot, slot - 1].some((s) => {
        const expected = Buffer.from(make(s), 'base64url');
        return given.length === expected.length && timingSafeEqual(given, expected);
      });
    },
  };
}
