import type { OAuthErrorCode } from '@mandate/sdk/protocol';

/** One row of the error catalogue: HTTP status, the RFC 6749 `error` on OAuth routes, and a title. */
export interface CatalogueEntry {
  status: number;
  oauth: OAuthErrorCode;
  title: string;
}

export const entry = (status: number, oauth: OAuthErrorCode, title: string): CatalogueEntry => ({ status, oauth, title });
