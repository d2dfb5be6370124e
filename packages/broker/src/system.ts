import { randomBytes } from 'node:crypto';
import type { Clock } from './ports/clock.ts';
import type { Random } from './ports/random.ts';

/** The real clock and CSPRNG, wired by the composition root. */
export const systemClock: Clock = { now: () => Date.now() };
export const cryptoRandom: Random = { base64url: (n) => randomBytes(n).toString('base64url') };
