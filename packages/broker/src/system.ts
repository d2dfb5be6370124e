import { randomBytes } from 'node:crypto';
import type { Clock } from './ports/clock.ts';
import type { Random } from './ports/random.ts';

/** Requests up to this many bytes are cut from a pool: ids (requests, jtis, agents, mandates, …), status-list indexes, 16-byte challenges. */
export const POOLED_MAX_BYTES = 16;
const POOL_BYTES = 4096;

/**
 * The CSPRNG, with small requests served from a pool drawn from it 4 KiB at a time: each call of
 * `randomBytes` costs more than the bytes (a mint asks three times). A byte is handed out once;
 * the pool is replaced, never refilled in place. Up to 4 KiB of values not yet handed out sit in
 * the heap (as in node's `randomUUID`), so secrets, grants and tokens (32 bytes and more) come
 * straight from `randomBytes`: the pool never holds them before they exist.
 */
export function pooledRandom(draw: (n: number) => Buffer = randomBytes): Random {
  let pool: Buffer = Buffer.alloc(0);
  let offset = 0;
  return {
    base64url(n) {
      if (n > POOLED_MAX_BYTES) return draw(n).toString('base64url');
      if (offset + n > pool.length) {
        pool = draw(POOL_BYTES);
        offset = 0;
      }
      offset += n;
      return pool.toString('base64url', offset - n, offset);
    },
  };
}

/** The real clock and CSPRNG, wired by the composition root. */
export const systemClock: Clock = { now: () => Date.now() };
export const cryptoRandom: Random = pooledRandom();
