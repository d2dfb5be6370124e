import { z } from 'zod';
import type { Attestor, AttestorDeps } from '../ports/attestor.ts';
import * as codeDigest from './code-digest/index.ts';
import * as k8sSaToken from './k8s-sa-token/index.ts';
import * as oidcToken from './oidc-token/index.ts';
import * as sigstore from './sigstore/index.ts';
import * as spiffeJwtSvid from './spiffe-jwt-svid/index.ts';
import * as tpmQuote from './tpm-quote/index.ts';

/** The shape every `attestors/<id>/index.ts` has. */
export interface AttestorModule<Config> {
  id: string;
  configSchema: z.ZodType<Config>;
  create(config: Config, deps: AttestorDeps): Attestor;
}

/**
 * The catalogue, listed explicitly (no directory scanning). Attestor id = folder name = config
 * key under `attestation.attestors` = audit field.
 */
export const ATTESTOR_MODULES = [oidcToken, codeDigest, k8sSaToken, spiffeJwtSvid, sigstore, tpmQuote] as const;

export const ATTESTOR_IDS: readonly string[] = ATTESTOR_MODULES.map((m) => m.id);

/** `attestation.attestors`: an attestor is enabled when its key is present. */
export const attestorsConfigSchema = z
  .strictObject({
    [oidcToken.id]: oidcToken.configSchema.optional(),
    [codeDigest.id]: codeDigest.configSchema.optional(),
    [k8sSaToken.id]: k8sSaToken.configSchema.optional(),
    [spiffeJwtSvid.id]: spiffeJwtSvid.configSchema.optional(),
    [sigstore.id]: sigstore.configSchema.optional(),
    [tpmQuote.id]: tpmQuote.configSchema.optional(),
  })
  .prefault({})
  .describe('Enabled attestors by id: an attestor runs only when its key is present.');

export type AttestorsConfig = z.output<typeof attestorsConfigSchema>;

/**
 * Builds the enabled attestors, keyed by id.
 *
 * @example
 * const attestors = createAttestors(config.attestation.attestors, { replay: store.replay, clock });
 */
export function createAttestors(config: AttestorsConfig, deps: AttestorDeps): ReadonlyMap<string, Attestor> {
  const attestors = new Map<string, Attestor>();
  for (const module of ATTESTOR_MODULES as readonly AttestorModule<unknown>[]) {
    const settings = (config as Record<string, unknown>)[module.id];
    if (settings !== undefined) attestors.set(module.id, module.create(settings, deps));
  }
  return attestors;
}
