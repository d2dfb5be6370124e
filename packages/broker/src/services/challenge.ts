import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { MandateError } from '../core/errors.ts';
import type { Clock } from '../ports/clock.ts';
import type { Random } from '../ports/random.ts';
import type { ReplayCache } from '../ports/replay-cache.ts';

export interface ChallengeOptions {
  /** HMAC key (≥ 32 bytes) shared by every replica, so any replica accepts any nonce. */
  key: Buffer;
  clock: Clock;
  random: Random;
  replay: ReplayCache;
  /** How long a nonce may be used, in ms. */
  ttlMs: number;
}

/** The body of `POST /challenge`. */
export interface Challenge {
  nonce: string;
  /** Seconds. */
  expires_in: number;
}

export interface ChallengeService {
  issueChallenge(): Challenge;
  /** Checks the MAC and the expiry, then spends the nonce; throws `ERR_CHALLENGE_*`. */
  consumeChallenge(nonce: unknown): Promise<void>;
}

const RANDOM_BYTES = 16;
const EXPIRY_BYTES = 8;
const MAC_BYTES = 16;
const NONCE_BYTES = RANDOM_BYTES + EXPIRY_BYTES + MAC_BYTES;
/** Separates these MACs from any other use of the same key (DPoP nonces, say). */
const LABEL = Buffer.from('mandate/attest-challenge/v1\0');

/**
 * PROTOCOL §3: single-use nonces for `/attest`. Issuing stores nothing: the nonce is random ‖
 * expiry ‖ HMAC; only consuming writes, to the shared replay cache, which makes it single-use.
 *
 * @example
 * const challenges = createChallengeService({ key, clock, random, replay: store.replay, ttlMs: 120_000 });
 * const { nonce } = challenges.issueChallenge();
 * await challenges.consumeChallenge(nonce);
 */
export function createChallengeService(options: ChallengeOptions): ChallengeService {
  if (options.key.length < 32) throw new RangeError('the challenge key must be at least 32 bytes');
  const mac = (body: Buffer) => createHmac('sha256', options.key).update(LABEL).update(body).digest().subarray(0, MAC_BYTES);
  return {
    issueChallenge() {
      const expiresAt = options.clock.now() + options.ttlMs;
      const body = Buffer.concat([Buffer.from(options.random.base64url(RANDOM_BYTES), 'base64url'), expiryBytes(expiresAt)]);
      return { nonce: Buffer.concat([body, mac(body)]).toString('base64url'), expires_in: Math.floor(options.ttlMs / 1000) };
    },
    async consumeChallenge(nonce) {
      const bytes = decodeNonce(nonce);
      const body = bytes.subarray(0, RANDOM_BYTES + EXPIRY_BYTES);
      if (!timingSafeEqual(mac(body), bytes.subarray(body.length))) throw invalid('the challenge nonce was not issued by this broker');
      const expiresAt = Number(body.readBigUInt64BE(RANDOM_BYTES));
      const now = options.clock.now();
      if (expiresAt <= now) throw new MandateError('ERR_CHALLENGE_EXPIRED', 'the challenge nonce has expired: request a new one');
      if (!(await options.replay.checkAndInsert('challenge', nonce as string, expiresAt, now)))
        throw new MandateError('ERR_CHALLENGE_REPLAYED', 'the challenge nonce was already used');
    },
  };
}

/** PROTOCOL §3: the audience of caller-chosen-audience tokens, `mandate:` + b64url(SHA-256(nonce ‖ jkt)). */
export function evidenceAudience(nonce: string, jkt: string): string {
  return `mandate:${evidenceExtraData(nonce, jkt).toString('base64url')}`;
}

/** PROTOCOL §3: SHA-256(nonce ‖ jkt), the TPM quote's `extraData`. */
export function evidenceExtraData(nonce: string, jkt: string): Buffer {
  return createHash('sha256').update(nonce, 'utf8').update(jkt, 'utf8').digest();
}

function expiryBytes(expiresAt: number): Buffer {
  const bytes = Buffer.alloc(EXPIRY_BYTES);
  bytes.writeBigUInt64BE(BigInt(expiresAt));
  return bytes;
}

function decodeNonce(nonce: unknown): Buffer {
  if (typeof nonce !== 'string') throw invalid('the challenge nonce must be a string');
  const bytes = Buffer.from(nonce, 'base64url');
  // Canonical base64url of exactly the expected length: no alternative spellings of one nonce.
  if (bytes.length !== NONCE_BYTES || bytes.toString('base64url') !== nonce) throw invalid('the challenge nonce is malformed');
  return bytes;
}

const invalid = (message: string) => new MandateError('ERR_CHALLENGE_INVALID', message);
