import { OAUTH_ERROR } from '@mandate/sdk/protocol';
import { entry, type CatalogueEntry } from '../error-entry.ts';

/** Error codes of the `k8s-sa-token` attestor (one per check of its verify.ts); merged into ERROR_CATALOGUE. */
export const K8S_SA_TOKEN_ERRORS = {
  ERR_K8S_SA_TOKEN_MALFORMED: entry(400, OAUTH_ERROR.invalidRequest, 'Malformed service-account token'),
  ERR_K8S_SA_TOKEN_ISSUER: entry(400, OAUTH_ERROR.invalidRequest, 'Service-account token from another issuer'),
  ERR_K8S_SA_TOKEN_ALG: entry(400, OAUTH_ERROR.invalidRequest, 'Service-account token algorithm not allowed'),
  ERR_K8S_SA_TOKEN_TYP: entry(400, OAUTH_ERROR.invalidRequest, 'Service-account token has the wrong typ'),
  ERR_K8S_SA_TOKEN_KEYS_UNAVAILABLE: entry(503, OAUTH_ERROR.temporarilyUnavailable, 'Cluster signing keys unavailable'),
  ERR_K8S_SA_TOKEN_SIGNATURE: entry(400, OAUTH_ERROR.invalidRequest, 'Service-account token signature invalid'),
  ERR_K8S_SA_TOKEN_EXPIRED: entry(400, OAUTH_ERROR.invalidRequest, 'Service-account token expired'),
  ERR_K8S_SA_TOKEN_NOT_YET_VALID: entry(400, OAUTH_ERROR.invalidRequest, 'Service-account token not yet valid'),
  ERR_K8S_SA_TOKEN_IAT: entry(400, OAUTH_ERROR.invalidRequest, 'Service-account token iat missing or in the future'),
  ERR_K8S_SA_TOKEN_AUDIENCE: entry(400, OAUTH_ERROR.invalidRequest, 'Service-account token audience is not bound to the challenge'),
  ERR_K8S_SA_TOKEN_NOT_SERVICE_ACCOUNT: entry(400, OAUTH_ERROR.invalidRequest, 'Not a service-account token'),
  ERR_K8S_SA_TOKEN_NAMESPACE: entry(400, OAUTH_ERROR.invalidRequest, 'Service-account namespace not allowed'),
  ERR_K8S_SA_TOKEN_REVIEW_UNAVAILABLE: entry(503, OAUTH_ERROR.temporarilyUnavailable, 'Kubernetes TokenReview API unavailable'),
  ERR_K8S_SA_TOKEN_REVIEW_UNAUTHENTICATED: entry(400, OAUTH_ERROR.invalidRequest, 'The API server did not authenticate the token'),
  ERR_K8S_SA_TOKEN_REVIEW_AUDIENCE: entry(400, OAUTH_ERROR.invalidRequest, 'The API server did not confirm the audience'),
  ERR_K8S_SA_TOKEN_REVIEW_IDENTITY: entry(400, OAUTH_ERROR.invalidRequest, 'The API server authenticated another identity'),
  ERR_K8S_SA_TOKEN_REPLAYED: entry(400, OAUTH_ERROR.invalidRequest, 'Service-account token already used'),
} as const satisfies Record<`ERR_K8S_SA_TOKEN_${string}`, CatalogueEntry>;
