import { z } from 'zod';
import type { Attestor, AttestorDeps } from '../../ports/attestor.ts';
import { createKeyResolver } from '../oidc-token/keys.ts';
import { OIDC_ALGS, type OidcIssuerConfig } from '../oidc-token/index.ts';
import { durationSetting, fetchableUrl } from '../settings.ts';
import { createTokenReviewer } from './token-review.ts';
import { verifyServiceAccountToken, type K8sVerifyContext } from './verify.ts';

/** A Kubernetes projected service-account token: the cluster vouches for a pod's namespace and service account. */
export const id = 'k8s-sa-token';

/** RFC 1123 label: the form of a Kubernetes namespace name. */
const namespaceName = z.string().regex(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/, 'expected a Kubernetes namespace name');

const tokenReview = z
  .strictObject({
    url: fetchableUrl('API server URL, e.g. https://kubernetes.default.svc; the path /apis/authentication.k8s.io/v1/tokenreviews is appended.'),
    bearerTokenFile: z.string().min(1).describe('File holding the broker\'s own bearer token for the API server (re-read every minute: kubelet rotates it).'),
    caFile: z.string().min(1).optional().describe('PEM CA bundle that signed the API server\'s certificate (read once at start-up).'),
  })
  .describe('Ask the API server (TokenReview) instead of checking signatures locally; needs RBAC create on tokenreviews.');

export const configSchema = z
  .strictObject({
    issuer: z.string().min(1).max(512).describe('The cluster\'s service-account issuer (kube-apiserver --service-account-issuer), compared exactly with iss.'),
    discovery: z.literal(true).optional().describe('Find the JWKS through <issuer>/.well-known/openid-configuration.'),
    jwksUri: fetchableUrl('JWKS URL of the cluster issuer.').optional(),
    jwksFile: z.string().min(1).optional().describe('Local JWKS file, e.g. the output of `kubectl get --raw /openid/v1/jwks`.'),
    tokenReview: tokenReview.optional(),
    allowedAlgs: z.array(z.enum(OIDC_ALGS)).min(1).default(['RS256', 'ES256']).describe('Signature algorithms accepted from the cluster.'),
    namespaces: z.array(namespaceName).min(1).optional().describe('Only service accounts of these namespaces are accepted (all when absent).'),
    allowFixedAudience: z
      .string()
      .min(1)
      .optional()
      .describe('Also accept this fixed audience (a projected volume\'s, replayable): the result is then only `warning`.'),
    clockSkew: durationSetting('30s', 'Tolerance for exp, nbf and iat.'),
  })
  .superRefine((value, ctx) => {
    const sources = [value.discovery, value.jwksUri, value.jwksFile, value.tokenReview].filter((s) => s !== undefined).length;
    if (sources !== 1) ctx.addIssue({ code: 'custom', path: [], message: 'set exactly one of discovery, jwksUri, jwksFile, tokenReview' });
    if (value.discovery && !isFetchable(value.issuer))
      ctx.addIssue({ code: 'custom', path: ['issuer'], message: 'discovery needs an https issuer (http only on loopback)' });
  })
  .describe('Attestor k8s-sa-token: a Kubernetes projected service-account token.');

export type K8sSaTokenConfig = z.output<typeof configSchema>;

/**
 * Builds the attestor. The key source (JWKS file, URL or discovery) or the TokenReview client is
 * set up once here: the JWKS file and the CA are read now, remote keys are cached by jose.
 *
 * @example
 * const attestor = create(configSchema.parse({ issuer: 'https://kubernetes.default.svc.cluster.local', jwksFile: '/etc/mandate/cluster-jwks.json' }), deps);
 * const result = await attestor.verify(token, binding); // claims: namespace, serviceaccount, pod, node, …
 */
export function create(config: K8sSaTokenConfig, deps: AttestorDeps): Attestor {
  const context: K8sVerifyContext = {
    issuer: config.issuer,
    allowedAlgs: config.allowedAlgs,
    namespaces: config.namespaces,
    allowFixedAudience: config.allowFixedAudience,
    skewMs: config.clockSkew,
    replay: deps.replay,
    source: config.tokenReview
      ? { kind: 'review', reviewer: createTokenReviewer(config.tokenReview) }
      : { kind: 'keys', keys: createKeyResolver(asIssuerConfig(config)) },
  };
  return { id, verify: (evidence, binding) => verifyServiceAccountToken(evidence, binding, context) };
}

/** OpenID Connect Discovery 1.0 §4: the document lives under the issuer, so it must be a URL we may fetch. */
function isFetchable(issuer: string): boolean {
  if (!URL.canParse(issuer)) return false;
  const url = new URL(issuer);
  return url.protocol === 'https:' || (url.protocol === 'http:' && ['127.0.0.1', '[::1]', 'localhost'].includes(url.hostname));
}

/** The oidc-token key resolver reads only the issuer and its key source. */
function asIssuerConfig(config: K8sSaTokenConfig): OidcIssuerConfig {
  const { issuer, discovery, jwksUri, jwksFile, allowedAlgs } = config;
  return { issuer, discovery, jwksUri, jwksFile, allowedAlgs, claims: [] };
}
