import { OAUTH_ERROR } from '@mandate/sdk/protocol';
import { entry, type CatalogueEntry } from '../error-entry.ts';

/** Error codes of the `sigstore` attestor (one per check of its verify.ts); merged into ERROR_CATALOGUE. */
export const SIGSTORE_ERRORS = {
} as const satisfies Record<`ERR_SIGSTORE_${string}`, CatalogueEntry>;
