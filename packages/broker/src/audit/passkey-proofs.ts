import { verifyAuthenticationResponse } from '@simplewebauthn/server';
import type { AuditRecord } from '../core/audit-chain.ts';
import { decisionChallenge } from '../services/webauthn-challenge.ts';

export type PasskeyProofFaultCode = 'ERR_AUDIT_PASSKEY_UNKNOWN' | 'ERR_AUDIT_PASSKEY_WRONG_HUMAN' | 'ERR_AUDIT_PASSKEY_CHALLENGE' | 'ERR_AUDIT_PASSKEY_SIGNATURE';

export interface PasskeyProofFault {
  code: PasskeyProofFaultCode;
  chain: string;
  seq: number;
  message: string;
}

type Data = Record<string, unknown>;
const text = (value: unknown): string => (typeof value === 'string' ? value : '');

/**
 * Offline re-check of passkey decisions (PROTOCOL §4): every `mandate.approved` / `mandate.resumed`
 * event with `method: "passkey"` carries the full WebAuthn assertion. Its challenge is recomputed
 * from the event's task digest, mandate id and nonce, and the signature is verified (origin,
 * rpIdHash, UV flag) against the public key recorded by the `passkey.registered` event, whose
 * `human_id` must be the event's actor (one human's passkey never decides for another). Feed every
 * event with `observe`, then call `check` (registrations may sit in another chain).
 */
export function createPasskeyProofCheck() {
  const keys = new Map<string, { publicKey: string; humanId: string }>();
  const decisions: AuditRecord[] = [];
  return {
    observe(records: readonly AuditRecord[]): void {
      for (const record of records) {
        const data = record.data as Data;
        if (record.type === 'passkey.registered') keys.set(text(data.credential_id), { publicKey: text(data.public_key), humanId: text(data.human_id) });
        else if ((record.type === 'mandate.approved' || record.type === 'mandate.resumed') && data.method === 'passkey') decisions.push(record);
      }
    },
    async check(): Promise<PasskeyProofFault[]> {
      const faults: PasskeyProofFault[] = [];
      for (const record of decisions) {
        const fault = await checkDecision(record, keys);
        if (fault) faults.push({ ...fault, chain: record.chain, seq: record.seq });
      }
      return faults;
    },
  };
}

async function checkDecision(record: AuditRecord, keys: ReadonlyMap<string, { publicKey: string; humanId: string }>): Promise<{ code: PasskeyProofFaultCode; message: string } | null> {
  const data = record.data as Data;
  const decision = record.type === 'mandate.approved' ? 'approve' : 'resume';
  const challenge = decisionChallenge(text(data.task_s256), record.mandateId ?? '', decision, text(data.nonce));
  if (challenge !== data.challenge) return { code: 'ERR_AUDIT_PASSKEY_CHALLENGE', message: `the ${decision} challenge does not derive from the event's task digest, mandate and nonce` };
  const registered = keys.get(text(data.credential_id));
  if (!registered) return { code: 'ERR_AUDIT_PASSKEY_UNKNOWN', message: `no passkey.registered event for credential ${text(data.credential_id)}` };
  if (registered.humanId !== record.actor)
    return { code: 'ERR_AUDIT_PASSKEY_WRONG_HUMAN', message: `credential ${text(data.credential_id)} was registered by ${registered.humanId}, not by the deciding human ${record.actor ?? '?'}` };
  const publicKey = registered.publicKey;
  const id = text(data.credential_id);
  try {
    const result = await verifyAuthenticationResponse({
      response: {
        id, rawId: id, type: 'public-key', clientExtensionResults: {},
        response: { clientDataJSON: text(data.client_data_json), authenticatorData: text(data.authenticator_data), signature: text(data.signature) },
      },
      expectedChallenge: challenge, expectedOrigin: text(data.origin), expectedRPID: text(data.rp_id), requireUserVerification: true,
      // Counter 0: offline, only the signature over this assertion is in question.
      credential: { id, publicKey: Buffer.from(publicKey, 'base64url'), counter: 0 },
    });
    return result.verified ? null : { code: 'ERR_AUDIT_PASSKEY_SIGNATURE', message: 'the passkey assertion does not verify' };
  } catch (error) {
    return { code: 'ERR_AUDIT_PASSKEY_SIGNATURE', message: `the passkey assertion does not verify: ${(error as Error).message}` };
  }
}
