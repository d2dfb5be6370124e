import { z } from 'zod';
import type { Attestor, AttestorDeps } from '../../ports/attestor.ts';
import { durationSetting } from '../settings.ts';
import { createPublicKeyCache, verifyTpmQuote } from './verify.ts';

/** A TPM 2.0 quote by an attestation key enrolled for the agent, over PCRs and an IMA-style event log. */
export const id = 'tpm-quote';

/**
 * PCRs any process may reset (TCG PC Client Platform TPM Profile: 16 "debug" and 23
 * "application" are resettable from locality 0): pinning them proves nothing outside test fixtures.
 */
export const RESETTABLE_PCRS: readonly string[] = ['16', '23'];

const hex64 = z
  .string()
  .regex(/^[0-9a-fA-F]{64}$/, 'expected 64 hex digits (a SHA-256 PCR value)')
  .transform((value) => value.toLowerCase());
const sha256Digest = z
  .string()
  .regex(/^sha256:[0-9a-fA-F]{64}$/, 'expected sha256:<64 hex>')
  .transform((value) => value.toLowerCase());
const pcrIndex = z.string().regex(/^(?:[0-9]|1[0-9]|2[0-3])$/, 'expected a PCR index 0–23');

export const configSchema = z
  .strictObject({
    pcrs: z
      .record(pcrIndex, z.array(hex64).min(1))
      .default({})
      .describe('Allowed SHA-256 PCR values by index: a pinned PCR that is not quoted or not in its list makes the result contraindicated.'),
    allowResettablePcrs: z.boolean().default(false).describe('Allow pinning PCR 16 or 23, which any process can reset (test fixtures only).'),
    codeEventName: z
      .string()
      .min(1)
      .max(4096)
      .optional()
      .describe('Event-log name (file path) whose file digest is emitted as the measured `digest` claim; the last such event wins.'),
    allowedDigests: z
      .array(sha256Digest)
      .min(1)
      .optional()
      .describe('Measured code digests accepted: another digest, or none, makes the result contraindicated. Needs codeEventName.'),
    ekCaFile: z.string().min(1).optional().describe('PEM file of the CA certificates that issue EK certificates; required for AK enrolment.'),
    enrolmentTtl: durationSetting('5m', 'How long an enrolment challenge (the credential to activate) may be answered.'),
  })
  .superRefine((value, ctx) => {
    const resettable = Object.keys(value.pcrs).filter((pcr) => RESETTABLE_PCRS.includes(pcr));
    if (resettable.length > 0 && !value.allowResettablePcrs)
      ctx.addIssue({ code: 'custom', path: ['pcrs', resettable[0]!], message: `PCR ${resettable.join(', ')} can be reset by any process: set allowResettablePcrs only for test fixtures` });
    if (value.allowedDigests !== undefined && value.codeEventName === undefined)
      ctx.addIssue({ code: 'custom', path: ['allowedDigests'], message: 'allowedDigests needs codeEventName (which event carries the code digest)' });
  })
  .describe('Attestor tpm-quote: a TPM 2.0 quote by an enrolled attestation key, with an IMA-style event log.');

export type TpmQuoteConfig = z.output<typeof configSchema>;

/**
 * Builds the attestor. The AKs come from `deps.attestationKeys` (enrolled by credential
 * activation, see enrolment.ts); their parsed public keys are cached across requests.
 *
 * @example
 * const attestor = create(configSchema.parse({ pcrs: { '7': ['…'] }, codeEventName: '/usr/bin/agent' }), { replay, clock, attestationKeys });
 * const result = await attestor.verify({ quote, signature, pcrs, eventLog }, binding);
 */
export function create(config: TpmQuoteConfig, deps: AttestorDeps): Attestor {
  const keys = deps.attestationKeys;
  if (keys === undefined) throw new Error('the tpm-quote attestor needs the registered attestation keys (deps.attestationKeys)');
  const context = { keys, config, publicKeys: createPublicKeyCache() };
  return { id, verify: (evidence, binding) => verifyTpmQuote(evidence, binding, context) };
}

export { createEnrolment, type EnrolmentRequest, type EnrolmentChallenge, type PendingEnrolment, type TpmEnrolment } from './enrolment.ts';
