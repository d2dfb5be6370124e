import type { X509Certificate } from '@sigstore/core';
import type { SignedEntity } from '@sigstore/verify';

/** One accepted signer: SAN (exact or a whole-string pattern) and OIDC issuer. */
export interface TrustedIdentity {
  issuer: string;
  matchesSan(san: string): boolean;
}

/**
 * Fulcio certificate extensions the claims come from (sigstore/fulcio docs/oid-info.md). The CA
 * copies them from the CI's OIDC token, so they are attested by the CA, not by the signer.
 */
export const FULCIO_EXTENSION = {
  buildSignerUri: '1.3.6.1.4.1.57264.1.9',
  sourceRepositoryUri: '1.3.6.1.4.1.57264.1.12',
  buildConfigUri: '1.3.6.1.4.1.57264.1.18',
} as const;

const UTF8_STRING = 12;
const MAX_EXTENSION_LENGTH = 1024;

/**
 * @example
 * compileIdentity({ sanRegExp: 'https://github\\.com/acme/.+', issuer: 'https://token.actions.githubusercontent.com' }).matchesSan(san);
 */
export function compileIdentity(config: { san?: string | undefined; sanRegExp?: string | undefined; issuer: string }): TrustedIdentity {
  if (config.san !== undefined) {
    const san = config.san;
    return { issuer: config.issuer, matchesSan: (value) => value === san };
  }
  // Anchored: a pattern for one repository must not match a longer SAN that merely contains it.
  const pattern = new RegExp(`^(?:${config.sanRegExp})$`, 'u');
  return { issuer: config.issuer, matchesSan: (value) => pattern.test(value) };
}

/**
 * The signing certificate of a keyless bundle, or undefined for a bare public key.
 *
 * @example
 * const certificate = signingCertificate(toSignedEntity(bundle));
 */
export function signingCertificate(entity: SignedEntity): X509Certificate | undefined {
  return entity.key.$case === 'certificate' ? entity.key.certificate : undefined;
}

/**
 * The text of a Fulcio v2 extension (a DER UTF8String, as the CA writes 1.3.6.1.4.1.57264.1.8 and
 * later), or undefined when absent or not of that form.
 *
 * @example
 * fulcioExtension(certificate, FULCIO_EXTENSION.sourceRepositoryUri); // 'https://github.com/acme/agent'
 */
export function fulcioExtension(certificate: X509Certificate | undefined, oid: string): string | undefined {
  try {
    const value = certificate?.extension(oid)?.valueObj.subs[0];
    if (value === undefined || value.tag.number !== UTF8_STRING || value.value.length > MAX_EXTENSION_LENGTH) return undefined;
    return value.value.toString('utf8');
  } catch {
    return undefined;
  }
}
