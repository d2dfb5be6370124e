import { z } from 'zod';
import type { Attestor, AttestorDeps } from '../../ports/attestor.ts';
import { durationSetting, fetchableUrl } from '../settings.ts';
import { createKeyResolver } from './keys.ts';
import { verifyOidcToken, type TrustedIssuer } from './verify.ts';

/** A JWT from a configured OpenID issuer (GitHub Actions, GitLab CI, a cloud workload identity). */
export const id = 'oidc-token';

/** Asymmetric JWS algorithms only (RFC 8725 §3.1): never `none`, never HMAC. */
export const OIDC_ALGS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'] as const;

const claimName = z.string().regex(/^[A-Za-z0-9_:.-]{1,64}$/, 'expected a claim name');

const issuer = z
  .strictObject({
    issuer: fetchableUrl('Issuer identifier, compared exactly with the token\'s iss.'),
    discovery: z.literal(true).optional().describe('Find the JWKS through <issuer>/.well-known/openid-configuration.'),
    jwksUri: fetchableUrl('JWKS URL of the issuer.').optional(),
    jwksFile: z.string().min(1).optional().describe('Local JWKS file (air-gapped issuers).'),
    allowedAlgs: z.array(z.enum(OIDC_ALGS)).min(1).default(['RS256', 'ES256']).describe('Signature algorithms accepted from this issuer.'),
    claims: z.array(claimName).default([]).describe('Token claims to emit (besides iss), e.g. repository_id, job_workflow_ref.'),
    allowFixedAudience: z
      .string()
      .min(1)
      .optional()
      .describe('Also accept this fixed audience (replayable evidence): the result is then only `warning`.'),
  })
  .superRefine((value, ctx) => {
    const sources = [value.discovery, value.jwksUri, value.jwksFile].filter((s) => s !== undefined).length;
    if (sources !== 1) ctx.addIssue({ code: 'custom', path: [], message: 'set exactly one of discovery, jwksUri, jwksFile' });
  });

export const configSchema = z
  .strictObject({
    issuers: z
      .array(issuer)
      .min(1)
      .refine((list) => new Set(list.map((i) => i.issuer)).size === list.length, 'each issuer may appear only once')
      .describe('Trusted issuers.'),
    clockSkew: durationSetting('30s', 'Tolerance for exp, nbf and iat.'),
  })
  .describe('Attestor oidc-token: a JWT from a configured OpenID issuer.');

export type OidcTokenConfig = z.output<typeof configSchema>;
export type OidcIssuerConfig = OidcTokenConfig['issuers'][number];

/**
 * Builds the attestor. Key sources are set up once per issuer here (remote JWKS sets keep their
 * own cache), so nothing cacheable is fetched per request.
 *
 * @example
 * const attestor = create({ issuers: [{ issuer: 'https://token.actions.githubusercontent.com', discovery: true, ... }], clockSkew: 30_000 }, deps);
 */
export function create(config: OidcTokenConfig, deps: AttestorDeps): Attestor {
  const issuers = new Map<string, TrustedIssuer>(
    config.issuers.map((entry) => [entry.issuer, { config: entry, keys: createKeyResolver(entry) }]),
  );
  const context = { issuers, replay: deps.replay, skewMs: config.clockSkew };
  return { id, verify: (evidence, binding) => verifyOidcToken(evidence, binding, context) };
}
