import { readFileSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import { MandateError } from '../../core/errors.ts';
import { rsaNumbers, type PublicArea } from './public-area.ts';

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/**
 * Reads the EK-issuing CA certificates once (config `ekCaFile`). Each certificate in the file is a
 * trust anchor (RFC 5280 §6.1.1 (d)): list the CAs that sign EK certificates, e.g. a vendor's
 * EK intermediate, not only its root.
 *
 * @example
 * const authorities = loadEkAuthorities('/etc/mandate/ek-ca.pem');
 */
export function loadEkAuthorities(path: string): X509Certificate[] {
  const pems = readFileSync(path, 'utf8').match(PEM_CERTIFICATE) ?? [];
  const authorities = pems.map((pem) => new X509Certificate(pem));
  if (authorities.length === 0) throw new Error(`${path} holds no PEM certificate`);
  const notCa = authorities.find((cert) => !cert.ca);
  if (notCa) throw new Error(`${path}: ${notCa.subject.replaceAll('\n', ', ')} is not a CA certificate`);
  return authorities;
}

/**
 * The EK certificate is signed by a configured CA, both are valid at `now`, and it certifies the
 * very RSA key of `ekArea` (TCG EK Credential Profile).
 *
 * @example
 * checkEkCertificate(new X509Certificate(der), ekArea, authorities, Date.now());
 */
export function checkEkCertificate(cert: X509Certificate, ekArea: PublicArea, authorities: readonly X509Certificate[], now: number): void {
  const issuer = authorities.find((ca) => cert.checkIssued(ca) && cert.verify(ca.publicKey));
  if (issuer === undefined) fail('ERR_TPM_QUOTE_EK_CERT_UNTRUSTED', 'the EK certificate is not signed by a configured EK CA');
  if (!isValidAt(cert, now) || !isValidAt(issuer, now)) fail('ERR_TPM_QUOTE_EK_CERT_EXPIRED', 'the EK certificate or its CA is outside its validity period');
  if (!certifiesKey(cert, ekArea)) fail('ERR_TPM_QUOTE_EK_MISMATCH', 'the EK certificate certifies another key than the EK presented');
}

function isValidAt(cert: X509Certificate, now: number): boolean {
  return Date.parse(cert.validFrom) <= now && now <= Date.parse(cert.validTo);
}

function certifiesKey(cert: X509Certificate, ekArea: PublicArea): boolean {
  const jwk = cert.publicKey.export({ format: 'jwk' });
  if (jwk.kty !== 'RSA' || typeof jwk.n !== 'string' || typeof jwk.e !== 'string') return false;
  const { modulus, exponent } = rsaNumbers(ekArea);
  const e = Buffer.from(jwk.e, 'base64url');
  return e.length >= 1 && e.length <= 4 && e.readUIntBE(0, e.length) === exponent && stripZeros(Buffer.from(jwk.n, 'base64url')).equals(stripZeros(modulus));
}

function stripZeros(bytes: Buffer): Buffer {
  const first = bytes.findIndex((byte) => byte !== 0);
  return first === -1 ? Buffer.alloc(0) : bytes.subarray(first);
}

function fail(code: 'ERR_TPM_QUOTE_EK_CERT_UNTRUSTED' | 'ERR_TPM_QUOTE_EK_CERT_EXPIRED' | 'ERR_TPM_QUOTE_EK_MISMATCH', message: string): never {
  throw new MandateError(code, message);
}
