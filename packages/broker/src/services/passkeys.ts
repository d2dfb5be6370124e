import {
  generateAuthenticationOptions, generateRegistrationOptions, verifyAuthenticationResponse, verifyRegistrationResponse,
  type AuthenticationResponseJSON, type PublicKeyCredentialCreationOptionsJSON, type PublicKeyCredentialRequestOptionsJSON, type RegistrationResponseJSON,
} from '@simplewebauthn/server';
import { MandateError } from '../core/errors.ts';
import type { AuditLog } from '../ports/audit-log.ts';
import type { Clock } from '../ports/clock.ts';
import type { Passkey } from '../ports/console.ts';
import type { Store } from '../ports/store.ts';
import { sha256, type ConsoleAuth } from './console-auth.ts';
import { signedChallenge, type WebauthnNonces } from './webauthn-challenge.ts';

export interface PasskeyDeps {
  store: Store;
  audit: AuditLog;
  clock: Clock;
  auth: ConsoleAuth;
  nonces: WebauthnNonces;
  origin: string;
  rpId: string;
  rpName: string;
}

/** ES256, EdDSA, RS256 (COSE ids): what authenticators commonly offer. */
const ALGORITHMS = [-7, -8, -257];

/**
 * Passkeys (WebAuthn Level 3): enrolment from a one-time invite and usernameless sign-in, user
 * verification required in both. Origin, rpIdHash, UV flag, signature and the signature counter
 * are checked by @simplewebauthn/server; the challenge is our own single-use server nonce.
 */
export function createPasskeyService(deps: PasskeyDeps) {
  const { store, clock, nonces } = deps;

  /** Verifies an assertion against the stored key over `expectedChallenge`; records the new counter. */
  const verifyAssertion = async (response: AuthenticationResponseJSON, expectedChallenge: string, humanId?: string): Promise<Passkey> => {
    const passkey = typeof response?.id === 'string' ? await store.console.passkeys.get(response.id) : null;
    if (!passkey) throw new MandateError('ERR_PASSKEY_UNKNOWN', 'this passkey is not registered here');
    if (humanId !== undefined && passkey.humanId !== humanId) throw new MandateError('ERR_PASSKEY_WRONG_HUMAN', 'this passkey belongs to another human');
    let newCounter: number;
    try {
      const result = await verifyAuthenticationResponse({
        response, expectedChallenge, expectedOrigin: deps.origin, expectedRPID: deps.rpId, requireUserVerification: true,
        credential: { id: passkey.credentialId, publicKey: Buffer.from(passkey.publicKey, 'base64url'), counter: passkey.counter, transports: passkey.transports },
      });
      if (!result.verified || !result.authenticationInfo.userVerified) throw new Error('not verified');
      newCounter = result.authenticationInfo.newCounter;
    } catch (error) {
      // WebAuthn §6.1.1: a counter that did not grow may mean a cloned authenticator.
      if (/counter/i.test((error as Error).message)) throw new MandateError('ERR_PASSKEY_COUNTER', 'the passkey\'s signature counter did not increase');
      throw new MandateError('ERR_PASSKEY_VERIFICATION', 'the passkey assertion did not verify (origin, relying party, user verification or signature)');
    }
    if (!(await store.console.passkeys.recordUse(passkey.credentialId, passkey.counter, newCounter, clock.now())))
      throw new MandateError('ERR_PASSKEY_COUNTER', 'the passkey was used concurrently with the same counter');
    return { ...passkey, counter: newCounter };
  };

  return {
    verifyAssertion,

    async enrolmentOptions(inviteToken: string): Promise<PublicKeyCredentialCreationOptionsJSON> {
      const { invite, human } = await deps.auth.checkInvite(inviteToken);
      const existing = await store.console.passkeys.listByHuman(human.id);
      return generateRegistrationOptions({
        rpName: deps.rpName, rpID: deps.rpId, userName: human.email ?? human.name, userDisplayName: human.name,
        userID: new TextEncoder().encode(human.id), challenge: Buffer.from(nonces.issue('enroll', invite.tokenHash), 'base64url'),
        attestationType: 'none', supportedAlgorithmIDs: ALGORITHMS,
        excludeCredentials: existing.map((p) => ({ id: p.credentialId, transports: p.transports })),
        authenticatorSelection: { residentKey: 'required', userVerification: 'required' },
      });
    },

    /** Registers the passkey and spends the invite; returns the human id (the caller then starts a session). */
    async enrol(inviteToken: string, response: RegistrationResponseJSON, requestId: string): Promise<string> {
      const { invite, human } = await deps.auth.checkInvite(inviteToken);
      const challenge = signedChallenge(response?.response?.clientDataJSON) ?? '';
      await nonces.spend(challenge, 'enroll', invite.tokenHash);
      let info;
      try {
        const result = await verifyRegistrationResponse({ response, expectedChallenge: challenge, expectedOrigin: deps.origin, expectedRPID: deps.rpId, requireUserVerification: true });
        if (!result.verified) throw new Error('not verified');
        info = result.registrationInfo;
      } catch {
        throw new MandateError('ERR_PASSKEY_VERIFICATION', 'the new passkey did not verify (origin, relying party, user verification or attestation)');
      }
      if (!(await store.console.invites.consume(sha256(inviteToken), clock.now()))) throw new MandateError('ERR_INVITE_USED', 'this invite link was already used');
      const { credential } = info;
      const passkey: Passkey = {
        credentialId: credential.id, humanId: human.id, publicKey: Buffer.from(credential.publicKey).toString('base64url'),
        counter: credential.counter, transports: credential.transports ?? [], createdAt: clock.now(), lastUsedAt: null,
      };
      await store.console.passkeys.insert(passkey);
      // The public key goes into the audit chain, so `mandate audit verify` can re-check approvals offline.
      await deps.audit.record({
        type: 'passkey.registered', actor: human.id, requestId,
        data: { human_id: human.id, credential_id: passkey.credentialId, public_key: passkey.publicKey, invite: invite.tokenHash.slice(0, 8) },
      });
      await deps.auth.passkeyRegistered(human.id, passkey.credentialId);
      return human.id;
    },

    /** Usernameless sign-in: no allow-list, a discoverable credential answers. */
    signInOptions(): Promise<PublicKeyCredentialRequestOptionsJSON> {
      return generateAuthenticationOptions({ rpID: deps.rpId, userVerification: 'required', challenge: Buffer.from(nonces.issue('signin', ''), 'base64url') });
    },

    /** Verifies a sign-in assertion; returns the human id. */
    async signIn(response: AuthenticationResponseJSON): Promise<string> {
      const challenge = signedChallenge(response?.response?.clientDataJSON) ?? '';
      await nonces.spend(challenge, 'signin', '');
      return (await verifyAssertion(response, challenge)).humanId;
    },

    /** Options for a decision whose challenge the caller derived (approval, resume), limited to the human's passkeys. */
    async decisionOptions(humanId: string, challenge: string): Promise<PublicKeyCredentialRequestOptionsJSON> {
      const allow = (await store.console.passkeys.listByHuman(humanId)).map((p) => ({ id: p.credentialId, transports: p.transports }));
      return generateAuthenticationOptions({ rpID: deps.rpId, userVerification: 'required', allowCredentials: allow, challenge: Buffer.from(challenge, 'base64url') });
    },
  };
}

export type PasskeyService = ReturnType<typeof createPasskeyService>;
