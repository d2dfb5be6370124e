import { readFileSync } from 'node:fs';
import { TrustedRoot } from '@sigstore/protobuf-specs';
import { toTrustMaterial, type TrustMaterial } from '@sigstore/verify';

const MEDIA_TYPE = /^application\/vnd\.dev\.sigstore\.trustedroot(\+json;version=0\.\d|\.v0\.\d\+json)$/;

/**
 * Reads a Sigstore trusted root (protobuf-specs TrustedRoot JSON, as `trusted_root.json` of the
 * public-good TUF repository or of a private Sigstore). Called once at start-up: a broken file
 * stops the broker with its path in the message, rather than failing every request.
 *
 * @example
 * const material = loadTrustMaterial('/etc/mandate/trusted_root.json');
 */
export function loadTrustMaterial(path: string): TrustMaterial {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new Error(`sigstore: cannot read the trusted root ${path}: ${error instanceof Error ? error.message : String(error)}`);
  }
  const mediaType = (json as { mediaType?: unknown } | null)?.mediaType;
  if (typeof mediaType !== 'string' || !MEDIA_TYPE.test(mediaType)) throw new Error(`sigstore: ${path} is not a Sigstore trusted root (mediaType)`);
  const root = TrustedRoot.fromJSON(json);
  if (root.certificateAuthorities.length === 0) throw new Error(`sigstore: ${path} names no certificate authority`);
  return toTrustMaterial(root);
}
