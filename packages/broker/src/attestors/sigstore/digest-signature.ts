import type { KeyObject } from 'node:crypto';
import { p256 } from '@noble/curves/nist.js';

/**
 * ECDSA P-256 verification of a signature against a SHA-256 digest, for message-signature
 * bundles: the broker holds the artifact's digest, never the artifact, and Node's crypto verifies
 * only over a whole message (no pre-hashed input). `@noble/curves` verifies the pre-hashed form
 * (`prehash: false`); high-S signatures are accepted as Sigstore's signers may produce them.
 *
 * @example
 * verifyDigestSignature(certificateKey, Buffer.from(hex, 'hex'), signatureDer); // true or false
 */
export function verifyDigestSignature(key: KeyObject, digest: Buffer, signature: Buffer): boolean {
  if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1' || digest.length !== 32) return false;
  // SEC 1 §2.3.3: the uncompressed point, which noble checks is on the curve.
  const point = key.export({ format: 'der', type: 'spki' }).subarray(-65);
  try {
    return p256.verify(signature, digest, point, { prehash: false, lowS: false, format: 'der' });
  } catch {
    return false;
  }
}
