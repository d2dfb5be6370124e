import type { AuthenticationResponseJSON, PublicKeyCredentialRequestOptionsJSON } from '@simplewebauthn/server';
import { MandateError } from '../core/errors.ts';
import type { Mandate } from '../core/mandate.ts';
import type { ConsoleSession } from './console-auth.ts';
import type { DecisionService } from './decide.ts';
import type { PasskeyService } from './passkeys.ts';
import { decisionChallenge, type WebauthnNonces } from './webauthn-challenge.ts';

export interface PasskeyApprovalDeps {
  decisions: DecisionService;
  passkeys: PasskeyService;
  nonces: WebauthnNonces;
  markStepUp(idHash: string): Promise<void>;
  origin: string;
  rpId: string;
}

export interface DecisionCeremony {
  nonce: string;
  taskS256: string;
  options: PublicKeyCredentialRequestOptionsJSON;
}

/**
 * Approval with a passkey (PROTOCOL §4): the WebAuthn challenge is derived from the task digest,
 * the mandate id, the decision and a single-use server nonce bound to the session, so the
 * signature covers exactly what was shown. The full assertion is kept as the approval's proof
 * (and so in the `mandate.approved` audit event) for `mandate audit verify` to re-check offline.
 */
export function createPasskeyApproval(deps: PasskeyApprovalDeps) {
  const binding = (session: ConsoleSession, mandateId: string) => `${session.idHash}\0${mandateId}`;

  /** Only the `login_hint` human, while the request is pending. */
  const decidable = async (session: ConsoleSession, mandateId: string): Promise<Mandate> => {
    const mandate = await deps.decisions.get(mandateId);
    if (mandate.approverId !== session.human.id) throw new MandateError('ERR_MANDATE_NOT_APPROVER', 'only the human named in the request may decide it');
    if (mandate.status !== 'pending') throw new MandateError('ERR_MANDATE_STATE', `the mandate is ${mandate.status}`);
    return mandate;
  };

  return {
    decidable,

    async options(session: ConsoleSession, mandateId: string): Promise<DecisionCeremony> {
      const mandate = await decidable(session, mandateId);
      const nonce = deps.nonces.issue('approve', binding(session, mandateId));
      const challenge = decisionChallenge(mandate.taskS256, mandate.id, 'approve', nonce);
      return { nonce, taskS256: mandate.taskS256, options: await deps.passkeys.decisionOptions(session.human.id, challenge) };
    },

    async approve(session: ConsoleSession, mandateId: string, nonce: string, response: AuthenticationResponseJSON, requestId: string): Promise<Mandate> {
      const mandate = await decidable(session, mandateId);
      await deps.nonces.spend(nonce, 'approve', binding(session, mandateId));
      const challenge = decisionChallenge(mandate.taskS256, mandate.id, 'approve', nonce);
      const passkey = await deps.passkeys.verifyAssertion(response, challenge, session.human.id);
      await deps.markStepUp(session.idHash);
      const proof = {
        credential_id: passkey.credentialId, nonce, challenge, origin: deps.origin, rp_id: deps.rpId,
        client_data_json: response.response.clientDataJSON, authenticator_data: response.response.authenticatorData,
        signature: response.response.signature, user_handle: response.response.userHandle ?? null,
      };
      return deps.decisions.approve(mandateId, { method: 'passkey', proof }, { actor: session.human.id, requestId });
    },

    async deny(session: ConsoleSession, mandateId: string, requestId: string): Promise<Mandate> {
      await decidable(session, mandateId);
      return deps.decisions.deny(mandateId, { actor: session.human.id, requestId });
    },
  };
}

export type PasskeyApproval = ReturnType<typeof createPasskeyApproval>;
