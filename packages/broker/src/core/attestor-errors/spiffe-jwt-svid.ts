import { OAUTH_ERROR } from '@mandate/sdk/protocol';
import { entry, type CatalogueEntry } from '../error-entry.ts';

/** Error codes of the `spiffe-jwt-svid` attestor (one per check of its verify.ts); merged into ERROR_CATALOGUE. */
export const SPIFFE_JWT_SVID_ERRORS = {
} as const satisfies Record<`ERR_SPIFFE_JWT_SVID_${string}`, CatalogueEntry>;
