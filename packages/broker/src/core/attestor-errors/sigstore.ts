import { OAUTH_ERROR } from '@mandate/sdk/protocol';
import { entry, type CatalogueEntry } from '../error-entry.ts';

/** Error codes of the `sigstore` attestor (one per check of its verify.ts); merged into ERROR_CATALOGUE. */
export const SIGSTORE_ERRORS = {
  ERR_SIGSTORE_BUNDLE_MALFORMED: entry(400, OAUTH_ERROR.invalidRequest, 'Malformed Sigstore bundle'),
  ERR_SIGSTORE_UNSUPPORTED_CONTENT: entry(400, OAUTH_ERROR.invalidRequest, 'Unsupported Sigstore bundle content'),
  ERR_SIGSTORE_TIMESTAMP_MISSING: entry(400, OAUTH_ERROR.invalidRequest, 'Sigstore bundle has no signed timestamp'),
  ERR_SIGSTORE_TIMESTAMP_INVALID: entry(400, OAUTH_ERROR.invalidRequest, 'Sigstore timestamp not verified by a trusted timestamp authority'),
  ERR_SIGSTORE_CERTIFICATE_UNTRUSTED: entry(400, OAUTH_ERROR.invalidRequest, 'Sigstore signing certificate not trusted at the signed time'),
  ERR_SIGSTORE_TLOG_INVALID: entry(400, OAUTH_ERROR.invalidRequest, 'Sigstore transparency log entry missing or invalid'),
  ERR_SIGSTORE_SIGNATURE_INVALID: entry(400, OAUTH_ERROR.invalidRequest, 'Sigstore signature invalid'),
  ERR_SIGSTORE_SAN_MISMATCH: entry(400, OAUTH_ERROR.invalidRequest, 'Sigstore signer identity not allowed'),
  ERR_SIGSTORE_ISSUER_MISMATCH: entry(400, OAUTH_ERROR.invalidRequest, 'Sigstore signer OIDC issuer not allowed'),
  ERR_SIGSTORE_STATEMENT_TYPE: entry(400, OAUTH_ERROR.invalidRequest, 'Signed payload is not an in-toto Statement v1'),
  ERR_SIGSTORE_PREDICATE_TYPE: entry(400, OAUTH_ERROR.invalidRequest, 'In-toto predicate type not allowed'),
  ERR_SIGSTORE_SUBJECT_DIGEST_MISSING: entry(400, OAUTH_ERROR.invalidRequest, 'No sha256 subject digest in the statement'),
  ERR_SIGSTORE_ARTIFACT_DIGEST: entry(400, OAUTH_ERROR.invalidRequest, 'Artifact digest missing or not the signed digest'),
} as const satisfies Record<`ERR_SIGSTORE_${string}`, CatalogueEntry>;
