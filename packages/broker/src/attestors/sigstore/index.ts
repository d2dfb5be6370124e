import { Verifier } from '@sigstore/verify';
import { z } from 'zod';
import type { Attestor, AttestorDeps } from '../../ports/attestor.ts';
import { compileIdentity } from './identity.ts';
import { SLSA_PROVENANCE_V1 } from './statement.ts';
import { loadTrustMaterial } from './trust-root.ts';
import { verifySigstoreBundle } from './verify.ts';

/** A Sigstore bundle: build provenance of an artifact, signed by a CI identity certified by a Fulcio CA. */
export const id = 'sigstore';

const identity = z
  .strictObject({
    san: z.string().min(1).max(1024).optional().describe('Subject Alternative Name of the signing certificate, compared exactly (e.g. a workflow URI with its ref).'),
    sanRegExp: z
      .string()
      .min(1)
      .max(1024)
      .refine(isRegExp, 'expected a JavaScript regular expression')
      .optional()
      .describe('Or a regular expression the whole SAN must match (anchored at both ends).'),
    issuer: z.string().min(1).max(1024).describe('OIDC issuer recorded by the CA in the certificate (Fulcio extension 1.3.6.1.4.1.57264.1.8), compared exactly.'),
  })
  .refine((value) => (value.san === undefined) !== (value.sanRegExp === undefined), 'set exactly one of san, sanRegExp');

export const configSchema = z
  .strictObject({
    trustedRootFile: z.string().min(1).describe('Sigstore trusted root JSON (CAs, timestamp authorities, transparency and CT logs), read once at start-up.'),
    identities: z.array(identity).min(1).describe('Signers accepted: a certificate must match one entry on both SAN and issuer.'),
    predicateTypes: z
      .array(z.string().min(1))
      .min(1)
      .default([SLSA_PROVENANCE_V1])
      .describe('In-toto predicate types accepted in DSSE bundles.'),
    tlogThreshold: z.number().int().min(0).max(8).default(1).describe('Transparency log entries required (0 for a private Sigstore without a log, e.g. GitHub attestations of private repositories).'),
    ctlogThreshold: z.number().int().min(0).max(8).default(1).describe('Certificate transparency SCTs required in the signing certificate.'),
    timestampThreshold: z.number().int().min(1).max(8).default(1).describe('Signed timestamps (RFC 3161 or transparency log) required: the time the certificate is checked at.'),
  })
  .describe('Attestor sigstore: build provenance of an artifact in a Sigstore bundle.');

export type SigstoreConfig = z.output<typeof configSchema>;

/**
 * Builds the attestor. The trusted root is read and parsed once here; nothing is fetched per
 * request (TUF is not used: the operator keeps the trusted root file current).
 *
 * @example
 * const attestor = create({ trustedRootFile: '/etc/mandate/trusted_root.json',
 *   identities: [{ san: 'https://github.com/acme/agent/.github/workflows/release.yml@refs/heads/main',
 *     issuer: 'https://token.actions.githubusercontent.com' }], predicateTypes: ['https://slsa.dev/provenance/v1'],
 *   tlogThreshold: 1, ctlogThreshold: 1, timestampThreshold: 1 }, deps);
 */
export function create(config: SigstoreConfig, _deps: AttestorDeps): Attestor {
  const { tlogThreshold, ctlogThreshold, timestampThreshold } = config;
  const context = {
    verifier: new Verifier(loadTrustMaterial(config.trustedRootFile), { tlogThreshold, ctlogThreshold, timestampThreshold }),
    identities: config.identities.map(compileIdentity),
    predicateTypes: new Set(config.predicateTypes),
    timestampThreshold,
  };
  return { id, verify: async (evidence) => verifySigstoreBundle(evidence, context) };
}

function isRegExp(source: string): boolean {
  try {
    new RegExp(source, 'u');
    return true;
  } catch {
    return false;
  }
}
