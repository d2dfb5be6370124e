import { z } from 'zod';
import { DURATION_PATTERN, parseDuration } from '../../core/duration.ts';
import type { Attestor, AttestorDeps } from '../../ports/attestor.ts';
import { durationSetting, fetchableUrl } from '../settings.ts';
import { createBundleCache, type BundleCache } from './bundle-cache.ts';
import { endpointLoader, fileLoader, readBundleFileSync } from './bundle.ts';
import { findPathFlaw, TRUST_DOMAIN_NAME } from './spiffe-id.ts';
import { verifyJwtSvid, type TrustedDomain } from './verify.ts';

/** A SPIFFE JWT-SVID (SPIRE, or any SPIFFE implementation) checked against its trust domain's bundle. */
export const id = 'spiffe-jwt-svid';

/** `/exact/path`, or `/prefix/` (ending in `/`) for every path below it. */
const pathPattern = z
  .string()
  .max(2048)
  .refine((value) => findPathFlaw(value.endsWith('/') ? value.slice(0, -1) : value) === null, 'expected a SPIFFE ID path such as /ns/prod/sa/agent or /ns/prod/');

const trustDomain = z
  .strictObject({
    trustDomain: z.string().regex(TRUST_DOMAIN_NAME, 'expected a trust domain name (lowercase letters, digits, ".", "-", "_")').describe('Trust domain name, e.g. prod.acme.internal.'),
    bundleFile: z.string().min(1).optional().describe('SPIFFE bundle file (JWK set), e.g. from `spire-server bundle show -format spiffe`; read at start-up, re-read every refresh interval.'),
    bundleEndpoint: fetchableUrl('SPIFFE bundle endpoint URL, https_web profile (web PKI).').optional(),
    refreshInterval: z
      .string()
      .regex(DURATION_PATTERN, 'expected a duration such as 30s, 5m, 24h')
      .transform(parseDuration)
      .optional()
      .describe('How long a bundle is used before it is reloaded. Default: the bundle\'s spiffe_refresh_hint (30s–24h), else 5m.'),
    allowedPaths: z
      .array(pathPattern)
      .min(1)
      .optional()
      .describe('SPIFFE ID paths accepted: exact (/ns/prod/sa/agent) or a prefix ending in / (/ns/prod/). Default: every path of the trust domain.'),
  })
  .superRefine((value, ctx) => {
    if ((value.bundleFile === undefined) === (value.bundleEndpoint === undefined)) ctx.addIssue({ code: 'custom', path: [], message: 'set exactly one of bundleFile, bundleEndpoint' });
  });

export const configSchema = z
  .strictObject({
    trustDomains: z
      .array(trustDomain)
      .min(1)
      .refine((list) => new Set(list.map((d) => d.trustDomain)).size === list.length, 'each trust domain may appear only once')
      .describe('Trusted SPIFFE trust domains, each with its bundle source.'),
    allowFixedAudience: z
      .string()
      .min(1)
      .optional()
      .describe('Also accept this fixed audience (replayable evidence, e.g. a JWT-SVID written by spiffe-helper): the result is then only `warning`.'),
    clockSkew: durationSetting('30s', 'Tolerance for exp and nbf.'),
  })
  .describe('Attestor spiffe-jwt-svid: a SPIFFE JWT-SVID verified against its trust domain\'s bundle.');

export type SpiffeJwtSvidConfig = z.output<typeof configSchema>;
export type TrustDomainConfig = SpiffeJwtSvidConfig['trustDomains'][number];

/**
 * Builds the attestor. Bundle files are read here (a missing file fails start-up); bundle
 * endpoints are fetched here once in the background. After that, bundles come from memory and
 * are reloaded per refresh interval, never per request.
 *
 * @example
 * const attestor = create(configSchema.parse({ trustDomains: [{ trustDomain: 'prod.acme.internal', bundleEndpoint: 'https://spire.acme.example/bundle' }] }), deps);
 * await attestor.verify(jwtSvid, binding);
 */
export function create(config: SpiffeJwtSvidConfig, deps: AttestorDeps): Attestor {
  const domains = new Map<string, TrustedDomain>(config.trustDomains.map((entry) => [entry.trustDomain, { config: entry, bundles: createCache(entry, deps) }]));
  const context = { domains, replay: deps.replay, skewMs: config.clockSkew, fixedAudience: config.allowFixedAudience };
  return { id, verify: (evidence, binding) => verifyJwtSvid(evidence, binding, context) };
}

function createCache(entry: TrustDomainConfig, deps: AttestorDeps): BundleCache {
  const interval = entry.refreshInterval === undefined ? {} : { intervalMs: entry.refreshInterval };
  if (entry.bundleFile !== undefined)
    return createBundleCache({ load: fileLoader(entry.bundleFile), clock: deps.clock, initial: readBundleFileSync(entry.bundleFile), ...interval });
  const cache = createBundleCache({ load: endpointLoader(entry.bundleEndpoint as string), clock: deps.clock, ...interval });
  // Warm the cache at start-up; a failure is reported by the first verification (503), not here.
  cache.current().catch(() => undefined);
  return cache;
}
