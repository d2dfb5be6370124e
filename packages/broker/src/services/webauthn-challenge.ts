import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { MandateError } from '../core/errors.ts';
import type { Clock } from '../ports/clock.ts';
import type { Random } from '../ports/random.ts';
import type { ReplayCache } from '../ports/replay-cache.ts';

/** What a server nonce was issued for; a nonce for one purpose or binding is refused for any other. */
export type ChallengePurpose = 'signin' | 'enroll' | 'approve' | 'resume';

const LABEL = 'mandate/webauthn-nonce/v1';
const EXP_BYTES = 8;
const RAND_BYTES = 16;
const MAC_BYTES = 32;

/**
 * Stateless single-use server nonces for WebAuthn ceremonies: exp ‖ random ‖ HMAC(purpose, binding,
 * exp, random) with a key shared through the store, so any replica checks any nonce; spending it
 * goes through the replay cache. The binding ties it to a session, invite or mandate.
 */
export function createWebauthnNonces(options: { key: Buffer; clock: Clock; random: Random; replay: ReplayCache; ttlMs: number }) {
  const mac = (purpose: ChallengePurpose, binding: string, body: Buffer) =>
    createHmac('sha256', options.key).update(`${LABEL}\0${purpose}\0${binding}\0`).update(body).digest();

  return {
    issue(purpose: ChallengePurpose, binding: string): string {
      const exp = Buffer.alloc(EXP_BYTES);
      exp.writeBigUInt64BE(BigInt(options.clock.now() + options.ttlMs));
      const body = Buffer.concat([exp, Buffer.from(options.random.base64url(RAND_BYTES), 'base64url')]);
      return Buffer.concat([body, mac(purpose, binding, body)]).toString('base64url');
    },

    /** Checks MAC (purpose and binding included) and expiry, then spends the nonce; throws `ERR_PASSKEY_CHALLENGE_*`. */
    async spend(nonce: string, purpose: ChallengePurpose, binding: string): Promise<void> {
      const bytes = /^[A-Za-z0-9_-]+$/.test(nonce) ? Buffer.from(nonce, 'base64url') : Buffer.alloc(0);
      const body = bytes.subarray(0, EXP_BYTES + RAND_BYTES);
      if (bytes.length !== EXP_BYTES + RAND_BYTES + MAC_BYTES || !timingSafeEqual(mac(purpose, binding, body), bytes.subarray(body.length)))
        throw new MandateError('ERR_PASSKEY_CHALLENGE_INVALID', `this challenge was not issued by this broker for this ${purpose}`);
      const expiresAt = Number(body.readBigUInt64BE(0));
      const now = options.clock.now();
      if (expiresAt <= now) throw new MandateError('ERR_PASSKEY_CHALLENGE_EXPIRED', 'the challenge has expired: start again');
      if (!(await options.replay.checkAndInsert('webauthn', nonce, expiresAt, now)))
        throw new MandateError('ERR_PASSKEY_CHALLENGE_REPLAYED', 'this challenge was already used');
    },
  };
}

export type WebauthnNonces = ReturnType<typeof createWebauthnNonces>;

/**
 * The WebAuthn challenge of a decision (PROTOCOL §4: H(task_s256 ‖ server random)): SHA-256 over a
 * domain label, the task digest, the mandate id, the decision and the server nonce, NUL-separated,
 * so the signature covers exactly the task shown and cannot be replayed for another task or decision.
 */
export function decisionChallenge(taskS256: string, mandateId: string, decision: 'approve' | 'resume', nonce: string): string {
  return createHash('sha256').update(['mandate-approval:v1', taskS256, mandateId, decision, nonce].join('\0')).digest('base64url');
}

/** The challenge the browser signed, read from `clientDataJSON` (base64url), or null. */
export function signedChallenge(clientDataJSON: unknown): string | null {
  if (typeof clientDataJSON !== 'string') return null;
  try {
    const parsed = JSON.parse(Buffer.from(clientDataJSON, 'base64url').toString('utf8')) as { challenge?: unknown };
    return typeof parsed.challenge === 'string' ? parsed.challenge : null;
  } catch {
    return null;
  }
}
