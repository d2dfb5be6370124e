import { OAUTH_ERROR } from '@mandate/sdk/protocol';
import { entry, type CatalogueEntry } from '../error-entry.ts';

/** Error codes of the `spiffe-jwt-svid` attestor (one per check of its verify.ts); merged into ERROR_CATALOGUE. */
export const SPIFFE_JWT_SVID_ERRORS = {
  ERR_SPIFFE_JWT_SVID_MALFORMED: entry(400, OAUTH_ERROR.invalidRequest, 'Malformed JWT-SVID'),
  ERR_SPIFFE_JWT_SVID_ALG: entry(400, OAUTH_ERROR.invalidRequest, 'JWT-SVID algorithm not allowed'),
  ERR_SPIFFE_JWT_SVID_TYP: entry(400, OAUTH_ERROR.invalidRequest, 'JWT-SVID has the wrong typ'),
  ERR_SPIFFE_JWT_SVID_SUBJECT: entry(400, OAUTH_ERROR.invalidRequest, 'JWT-SVID subject is not a valid SPIFFE ID'),
  ERR_SPIFFE_JWT_SVID_TRUST_DOMAIN: entry(400, OAUTH_ERROR.invalidRequest, 'JWT-SVID trust domain not configured'),
  ERR_SPIFFE_JWT_SVID_BUNDLE_UNAVAILABLE: entry(503, OAUTH_ERROR.temporarilyUnavailable, 'SPIFFE bundle unavailable'),
  ERR_SPIFFE_JWT_SVID_KEY_UNKNOWN: entry(400, OAUTH_ERROR.invalidRequest, 'JWT-SVID signed by a key the trust bundle does not hold'),
  ERR_SPIFFE_JWT_SVID_KEY_USE: entry(400, OAUTH_ERROR.invalidRequest, 'JWT-SVID signing key is not a JWT authority'),
  ERR_SPIFFE_JWT_SVID_SIGNATURE: entry(400, OAUTH_ERROR.invalidRequest, 'JWT-SVID signature invalid'),
  ERR_SPIFFE_JWT_SVID_EXPIRED: entry(400, OAUTH_ERROR.invalidRequest, 'JWT-SVID expired'),
  ERR_SPIFFE_JWT_SVID_NOT_YET_VALID: entry(400, OAUTH_ERROR.invalidRequest, 'JWT-SVID not yet valid'),
  ERR_SPIFFE_JWT_SVID_AUDIENCE: entry(400, OAUTH_ERROR.invalidRequest, 'JWT-SVID audience is not bound to the challenge'),
  ERR_SPIFFE_JWT_SVID_PATH: entry(400, OAUTH_ERROR.invalidRequest, 'SPIFFE ID path not allowed'),
  ERR_SPIFFE_JWT_SVID_REPLAYED: entry(400, OAUTH_ERROR.invalidRequest, 'JWT-SVID already used'),
} as const satisfies Record<`ERR_SPIFFE_JWT_SVID_${string}`, CatalogueEntry>;
