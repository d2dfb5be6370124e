import { OAUTH_ERROR } from '@mandate/sdk/protocol';
import { entry, type CatalogueEntry } from '../error-entry.ts';

/** Error codes of the `tpm-quote` attestor (one per check of its verify.ts); merged into ERROR_CATALOGUE. */
export const TPM_QUOTE_ERRORS = {
} as const satisfies Record<`ERR_TPM_QUOTE_${string}`, CatalogueEntry>;
