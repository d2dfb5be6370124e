import { OAUTH_ERROR } from '@mandate/sdk/protocol';
import { entry, type CatalogueEntry } from '../error-entry.ts';

/** Error codes of the `k8s-sa-token` attestor (one per check of its verify.ts); merged into ERROR_CATALOGUE. */
export const K8S_SA_TOKEN_ERRORS = {
} as const satisfies Record<`ERR_K8S_SA_TOKEN_${string}`, CatalogueEntry>;
